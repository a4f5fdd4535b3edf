"""Console pages in tests: who may open a page (over HTTP), and signing in in headless Chromium."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient


def sign_in(client: TestClient, token: str) -> Any:
    """Sign in to the console with ``token`` (the answer: 303 on success)."""
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    return client.post("/console/login", data={"token": token, "csrf": csrf.group(1), "next": "/console/live"})


def check_roles(console: TestClient, path: str, refused: str, allowed: str) -> None:
    """``path`` sends a visitor to sign in, refuses the role of token ``refused`` and opens for ``allowed``'s, which
    stays signed in."""
    assert console.get(path).status_code == 303  # sign in first
    assert sign_in(console, refused).status_code == 303
    assert console.get(path).status_code == 403
    console.cookies.clear()
    assert sign_in(console, allowed).status_code == 303


def signed_in_at(page: Any, url: str, token: str) -> list[str]:
    """Open ``url`` in the Playwright ``page``, sign in there with ``token`` (back at ``url`` then); returns the list
    the page's script errors and failed requests (4xx/5xx, the favicon aside) go to from then on."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(url)
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(url) + "$"))
    return errors
