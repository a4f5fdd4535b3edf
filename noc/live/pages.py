"""The agent's live check in the console (``/console/live``): find the subscriber, identify the caller, watch the
CPE's readings live, close with the note. Forms go through the same service as the API (same refusals, same
audit); the page's stream is the session's stream, authenticated by the console's cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from noc.core.errors import NocError
from noc.core.http import Id, RuntimeDep, SessionDep
from noc.core.security import Principal
from noc.inventory.models import Cpe, Subscriber
from noc.live import service
from noc.live.api import AGENTS, out
from noc.live.stream import readings
from noc.web.service import HEADERS, ROOT, ConsolePage, add_page, checked_form, console_user, render

TEMPLATES = Path(__file__).with_name("templates")
PATH = f"{ROOT}/live"
router = APIRouter(prefix=PATH, tags=["console"], include_in_schema=False)
Agent = Annotated[Principal, Depends(console_user(AGENTS))]
Form = Annotated[dict[str, str], Depends(checked_form)]
add_page(ConsolePage(PATH, "Preverjanje v živo", "Live check", AGENTS))


def _page(request: Request, who: Principal, name: str, status: int = 200, **context: object) -> HTMLResponse:
    return render(request, who, name, (TEMPLATES,), status=status, **context)


@router.get("", response_class=HTMLResponse)
def search(request: Request, who: Agent, s: SessionDep, q: str = "", closed: int | None = None) -> HTMLResponse:
    found = service.search_subscribers(s, q) if q else []
    mine, _ = service.list_sessions(s, who, "open", 20, 0)
    return _page(request, who, "live_search.html.j2", q=q, found=found, sessions=[out(s, m) for m in mine],
                 closed=closed)


def _identify(request: Request, who: Principal, s: SessionDep, key: str, status: int = 200,
              error: NocError | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    subscriber = service.find_subscriber(s, key)
    if subscriber is None:
        return _page(request, who, "live_search.html.j2", status=404, q=key, found=[], sessions=[], closed=None,
                     error=NocError("subscriber", "no subscriber has this number or username"))
    cpes = list(s.scalars(select(Cpe).where(Cpe.subscriber_id == subscriber.id).order_by(Cpe.serial)))
    minutes = request.app.state.runtime.settings.live_session_minutes
    return _page(request, who, "live_identify.html.j2", status=status, subscriber=subscriber, cpes=cpes,
                 error=error, form=form or {}, minutes=minutes)


@router.get("/identify", response_class=HTMLResponse)
def identify(request: Request, who: Agent, s: SessionDep, subscriber: str) -> HTMLResponse:
    return _identify(request, who, s, subscriber)


@router.post("/open", response_class=HTMLResponse)
def open_session(request: Request, who: Agent, rt: RuntimeDep, s: SessionDep, form: Form) -> Response:
    asked = service.OpenRequest(subscriber=form.get("subscriber", ""), caller_number=form.get("caller_number", ""),
                                contact_ref=form.get("contact_ref", ""), reason=form.get("reason", ""),
                                consent=form.get("consent") == "yes", cpe=form.get("cpe") or None)
    try:
        live = service.open_session(rt.db, rt.settings, who, asked)
    except NocError as error:
        return _identify(request, who, s, asked.subscriber, error.status, error, form)
    return RedirectResponse(f"{PATH}/sessions/{live.id}", status_code=303, headers=HEADERS)


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def watch(request: Request, session_id: Id, who: Agent, s: SessionDep) -> HTMLResponse:
    live = service.get(s, session_id, who)
    subscriber = s.get(Subscriber, live.subscriber_id)
    return _page(request, who, "live_session.html.j2", live=out(s, live),
                 subscriber_name=subscriber.name if subscriber else "")


@router.get("/sessions/{session_id}/stream")
def stream(session_id: Id, rt: RuntimeDep, who: Agent) -> StreamingResponse:
    opened = service.start_stream(rt.db, session_id, who, via="console")
    return StreamingResponse(readings(rt, opened), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/sessions/{session_id}/close", response_class=HTMLResponse)
def close(request: Request, session_id: Id, who: Agent, rt: RuntimeDep, s: SessionDep, form: Form) -> Response:
    try:
        service.close_session(rt.db, session_id, who, form.get("note", ""))
    except NocError as error:
        live = service.get(s, session_id, who)
        subscriber = s.get(Subscriber, live.subscriber_id)
        return _page(request, who, "live_session.html.j2", status=error.status, live=out(s, live), error=error,
                     subscriber_name=subscriber.name if subscriber else "")
    return RedirectResponse(f"{PATH}?closed={session_id}", status_code=303, headers=HEADERS)


@router.get("/live.js")
def script() -> FileResponse:
    return FileResponse(TEMPLATES / "live.js", media_type="text/javascript", headers={"Cache-Control": "max-age=300"})
