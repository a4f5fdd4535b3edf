"""The consoles' shell, shared by every console page (the agent's live check, later the complaint handler's).

A user signs in with their API token; it is sealed (Fernet, key derived from noc's secret key) into an HttpOnly,
SameSite=Strict cookie with an expiry, and checked again on every request through the runtime's authenticator,
so a revoked token or a disabled user ends the console session too. Forms carry a CSRF token, an HMAC of the
session cookie; the sign-in form one of a random pre-session cookie. Pages are Jinja2 templates extending
``shell.html.j2``; a capability adds its pages to the navigation with :func:`add_page` and renders with
:func:`render`. Texts are written in both languages in the templates (``T("slovensko", "English")``).
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from noc.core.capability import Runtime
from noc.core.crypto import SecretBoxError
from noc.core.security import Principal, Role

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
ROOT = "/console"
COOKIE = "noc_console"
LOGIN_COOKIE = "noc_login"
LANG_COOKIE = "noc_lang"
LANGUAGES = ("sl", "en")
SESSION_PURPOSE = "console-session"
CSRF_PURPOSE = "console-csrf"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class ConsolePage:
    """An entry of the console's navigation: where, its name in each language, who may open it."""

    path: str
    sl: str
    en: str
    roles: frozenset[Role]


PAGES: dict[str, ConsolePage] = {}
"""The console's navigation, filled by capabilities' ``pages`` modules when they are imported."""


def add_page(page: ConsolePage) -> None:
    """Put ``page`` into the navigation (again: replaced)."""
    PAGES[page.path] = page


def nav(who: Principal) -> list[ConsolePage]:
    """The pages ``who``'s role may open, in path order."""
    return sorted((p for p in PAGES.values() if who.role in p.roles), key=lambda p: p.path)


def seal(rt: Runtime, token: str, hours: float) -> str:
    """The session cookie's value: the token and its expiry, sealed."""
    return rt.secret_box(SESSION_PURPOSE).seal({"token": token, "until": str(int(time.time() + hours * 3600))})


def principal(request: Request, rt: Runtime) -> Principal | None:
    """The signed-in user of ``request`` (None: no, expired or tampered cookie, revoked token, disabled user)."""
    value = request.cookies.get(COOKIE)
    if not value or rt.authenticator is None:
        return None
    try:
        opened = rt.secret_box(SESSION_PURPOSE).open(value)
    except (SecretBoxError, ValueError):
        return None
    if int(opened.get("until", "0")) < time.time():
        return None
    with rt.db.read_session() as s:
        return rt.authenticator(s, opened.get("token", ""))


def authenticate(rt: Runtime, token: str) -> Principal | None:
    """The user an API token belongs to (sign-in)."""
    if rt.authenticator is None or not token:
        return None
    with rt.db.read_session() as s:
        return rt.authenticator(s, token)


def csrf(rt: Runtime, key: str) -> str:
    """The CSRF token bound to ``key`` (the session or pre-session cookie)."""
    return base64.urlsafe_b64encode(rt.signer(CSRF_PURPOSE).tag(key.encode())).decode().rstrip("=")


def csrf_ok(rt: Runtime, key: str | None, given: str) -> bool:
    """Whether ``given`` is the CSRF token of ``key``."""
    return bool(key) and hmac.compare_digest(csrf(rt, key or ""), given)


def language(request: Request) -> str:
    """``sl`` or ``en``: the ``lang`` query parameter, the language cookie, or Slovenian."""
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "sl"
    return lang if lang in LANGUAGES else "sl"


def console_user(roles: frozenset[Role]) -> Callable[[Request], Principal]:
    """A dependency: the signed-in user with one of ``roles``; others are sent to sign in (303) or refused (403)."""

    def dependency(request: Request) -> Principal:
        rt: Runtime = request.app.state.runtime
        who = principal(request, rt)
        if who is None:
            asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target = quote(asked, safe="/")
            raise HTTPException(303, "sign in first", headers={"Location": f"{ROOT}/login?next={target}"})
        if who.role not in roles:
            raise HTTPException(403, f"role '{who.role.value}' may not open this page")
        return who

    return dependency


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form of a signed-in page, after its CSRF token was checked (403 otherwise)."""
    rt: Runtime = request.app.state.runtime
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf_ok(rt, request.cookies.get(COOKIE), form.get("csrf", "")):
        raise HTTPException(403, "the form has expired: reload the page and try again")
    return form


@lru_cache(maxsize=16)
def environment(dirs: tuple[Path, ...]) -> Environment:
    """Templates of ``dirs`` (a capability's own first), then the shell's."""
    env = Environment(loader=ChoiceLoader([FileSystemLoader(d) for d in (*dirs, TEMPLATES)]),
                      autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    return env


def render(request: Request, who: Principal | None, template: str, dirs: Sequence[Path] = (), *,
           status: int = 200, **context: Any) -> HTMLResponse:
    """A console page: ``template`` with the shell's context (user, navigation, language, CSRF token, ``T``)."""
    rt: Runtime = request.app.state.runtime
    lang = language(request)

    def text(sl: str, en: str) -> str:
        return sl if lang == "sl" else en

    cookie = request.cookies.get(COOKIE) or ""
    html = environment(tuple(dirs)).get_template(template).render(
        who=who, nav=nav(who) if who else [], lang=lang, T=text, root=ROOT, path=request.url.path,
        csrf=csrf(rt, cookie) if cookie else "", **context)
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=ROOT, samesite="strict",
                            secure=request.url.scheme == "https")
    return response


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, only under /console, Secure over HTTPS."""
    response.set_cookie(name, value, max_age=max_age, path=ROOT, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
