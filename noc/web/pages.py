"""The console's own pages: sign in with an API token, sign out, the start page with the navigation, static files."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from noc.audit.service import record
from noc.core.http import RuntimeDep
from noc.core.security import ALL_ROLES, Principal
from noc.web.service import (
    COOKIE,
    HEADERS,
    LOGIN_COOKIE,
    ROOT,
    STATIC,
    authenticate,
    checked_form,
    console_user,
    csrf,
    csrf_ok,
    principal,
    render,
    seal,
    set_cookie,
)

router = APIRouter(prefix=ROOT, tags=["console"], include_in_schema=False)
Anyone = Annotated[Principal, Depends(console_user(ALL_ROLES))]
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}


def _next(target: str | None) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    return target if target and target.startswith(ROOT + "/") and not target.startswith("//") else ROOT + "/"


@router.get("/", response_class=HTMLResponse)
def index(request: Request, who: Anyone) -> HTMLResponse:
    return render(request, who, "index.html.j2")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, rt: RuntimeDep, next: str | None = None) -> Response:
    if principal(request, rt) is not None:
        return RedirectResponse(_next(next), status_code=303)
    nonce = secrets.token_urlsafe(24)
    response = render(request, None, "login.html.j2", login_csrf=csrf(rt, nonce), next=_next(next))
    set_cookie(response, request, LOGIN_COOKIE, nonce, max_age=3600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, rt: RuntimeDep, token: Annotated[str, Form(max_length=200)] = "",
          csrf_token: Annotated[str, Form(alias="csrf")] = "", next: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(rt, request.cookies.get(LOGIN_COOKIE), csrf_token):
        raise HTTPException(403, "the form has expired: reload the page and try again")
    who = authenticate(rt, token.strip())
    if who is None:
        nonce = secrets.token_urlsafe(24)
        refused = render(request, None, "login.html.j2", status=401, login_csrf=csrf(rt, nonce), next=_next(next),
                         error=True)
        set_cookie(refused, request, LOGIN_COOKIE, nonce, max_age=3600)
        return refused
    with rt.db.session() as s:
        record(s, who.actor, "console.sign_in", "user", str(who.user_id))
    response = RedirectResponse(_next(next), status_code=303, headers=HEADERS)
    hours = rt.settings.console_session_h
    set_cookie(response, request, COOKIE, seal(rt, token.strip(), hours), max_age=int(hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path=ROOT)
    return response


@router.post("/logout")
def logout(request: Request, who: Anyone, _csrf: Annotated[dict[str, str], Depends(checked_form)]) -> Response:
    response = RedirectResponse(f"{ROOT}/login", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path=ROOT)
    return response


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    path = STATIC / name
    if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=300"})
