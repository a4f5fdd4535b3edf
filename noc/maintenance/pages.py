"""Maintenance's pages: the console's works and outages (:mod:`noc.maintenance.console`, signed in), and the opt-out
page every notice links to: no login, the signed token is the key.

``GET /optout/{token}`` asks (link scanners that open links must not unsubscribe anyone); ``POST`` opts out —
from the page's button, or straight from a mail program's one-click unsubscribe (RFC 8058). Both are
idempotent; the opt-out is written through the inventory, audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from noc.core.http import RuntimeDep, SessionDep
from noc.core.security import Actor
from noc.inventory.models import Subscriber
from noc.inventory.service import opt_out
from noc.maintenance.console import router as console
from noc.maintenance.mail import templates
from noc.maintenance.optout import PURPOSE, read_token

router = APIRouter(tags=["opt-out"], include_in_schema=False)
router.include_router(console)
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _page(state: str, lang: str = "sl", category: str = "maintenance", action: str = "",
          status: int = 200) -> HTMLResponse:
    html = templates().get_template("optout.html.j2").render(state=state, lang=lang, category=category,
                                                            action=action)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _subscriber(s: SessionDep, rt: RuntimeDep, token: str) -> tuple[Subscriber, str] | None:
    found = read_token(rt.signer(PURPOSE), token)
    subscriber = s.get(Subscriber, found[0]) if found is not None else None
    return None if found is None or subscriber is None else (subscriber, found[1])


@router.api_route("/optout/{token}", methods=["GET", "POST"], response_class=HTMLResponse)
def optout(token: str, request: Request, s: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    """GET asks whether to stop notices of the token's category (or says it is done already); POST stops them
    for the token's subscriber (again: nothing changes). A token that is not genuine gets a 404 page."""
    found = _subscriber(s, rt, token)
    if found is None:
        return _page("invalid", status=404)
    subscriber, category = found
    if request.method == "POST":
        actor = Actor(name=f"subscriber:{subscriber.number}", role="subscriber")
        if opt_out(s, subscriber.id, category, actor, reason="opt-out link in a notice", via="optout-link"):
            s.commit()
        return _page("done", subscriber.language, category)
    done = any(o.category == category for o in subscriber.opt_outs)
    return _page("done" if done else "ask", subscriber.language, category, f"/optout/{token}")
