"""The agent console: sign-in with a token (HttpOnly, SameSite=Strict cookie), CSRF on forms, roles; and the whole
live-check flow (sign in → find → identify → watch → close) in headless Chromium driven by Playwright, with a
screenshot kept in ``test-artifacts/``."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.live.models import LiveSession
from noc.maintenance.service import WindowIn, create_window
from tests.live.conftest import Server
from tests.support.console import sign_in

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NOC_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture
def browser_client(settings: Settings, net: Database) -> Any:
    with TestClient(create_app(settings, net, scheduler=False), follow_redirects=False) as client:
        yield client


def test_pages_need_a_sign_in_and_the_cookie_is_httponly_and_strict(browser_client: TestClient,
                                                                    tokens: dict[str, str], net: Database) -> None:
    first = browser_client.get("/console/live")
    assert first.status_code == 303 and first.headers["location"] == "/console/login?next=/console/live"
    wrong = sign_in(browser_client, "noc_not-a-token")
    assert wrong.status_code == 401 and "noc_console" not in wrong.cookies
    signed = sign_in(browser_client, tokens["agent"])
    assert signed.status_code == 303 and signed.headers["location"] == "/console/live"
    cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("noc_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert tokens["agent"] not in cookie  # sealed, never the token itself
    page = browser_client.get("/console/live")
    assert page.status_code == 200 and "Preverjanje v živo" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert browser_client.get("/console/live?lang=en").text.count("Find the subscriber") == 1
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "console.sign_in")) == 1


def test_forms_without_the_csrf_token_are_refused(browser_client: TestClient, tokens: dict[str, str],
                                                  net: Database) -> None:
    assert sign_in(browser_client, tokens["agent"]).status_code == 303
    form = {"subscriber": "S-1", "caller_number": "041 123 456", "contact_ref": "C-1", "reason": "slow",
            "consent": "yes"}
    assert browser_client.post("/console/live/open", data=form).status_code == 403
    assert browser_client.post("/console/live/open", data={**form, "csrf": "forged"}).status_code == 403
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LiveSession)) == 0
    login = browser_client.post("/console/login", data={"token": tokens["agent"], "csrf": "x"})
    assert login.status_code == 403


def test_a_viewer_may_not_open_the_live_page(browser_client: TestClient, tokens: dict[str, str]) -> None:
    assert sign_in(browser_client, tokens["viewer"]).status_code == 303
    assert browser_client.get("/console/live").status_code == 403
    start = browser_client.get("/console/")
    assert start.status_code == 200 and "/console/live" not in start.text


def test_a_wrong_caller_is_refused_in_the_console_too(browser_client: TestClient, tokens: dict[str, str]) -> None:
    assert sign_in(browser_client, tokens["agent"]).status_code == 303
    page = browser_client.get("/console/live/identify?subscriber=S-1")
    assert "največ 30 minut" in page.text and "+386" not in page.text  # the contract's number is never shown
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    refused = browser_client.post("/console/live/open", data={
        "csrf": csrf.group(1), "subscriber": "S-1", "caller_number": "041 999 999", "contact_ref": "C-2",
        "reason": "slow", "consent": "yes"})
    assert refused.status_code == 403 and 'data-code="caller_not_identified"' in refused.text


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_live_check_flow_in_headless_chromium(settings: Settings, net: Database, tokens: dict[str, str],
                                                  tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with net.session() as s:  # works on the CPE's segment in two days: the page links to them
        start = utcnow() + timedelta(hours=50)
        works = create_window(s, WindowIn(title="Node split", segments=["sg-1"], starts_at=start,
                                          ends_at=start + timedelta(hours=2)), SYSTEM).id
    with Server(settings, net) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)  # a fresh profile per launch
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="sl-SI")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text)  # refused forms answer 4xx: not script errors
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.goto(f"{server.url}/console/live?lang=en")
            page.fill("#token", tokens["agent"])
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/console/live(\?lang=en)?$"))
            page.fill("#q", "S-2")
            page.click("text=Search")
            page.click("text=Identify the caller")
            page.fill("#caller_number", "040 555 010")
            page.fill("#contact_ref", "CALL-42")
            page.fill("#reason", "internet drops every evening")
            page.select_option("#cpe", "CM-SICK")
            page.click("#open")
            refused = page.locator("#error")
            expect(refused).to_have_attribute("data-code", "invalid")  # no consent yet
            page.check("#consent")
            page.click("#open")
            page.wait_for_url(re.compile(r".*/console/live/sessions/\d+$"))
            expect(page.locator("#grade")).to_have_text("bad", timeout=10_000)
            expect(page.locator("#hints")).to_contain_text("upstream transmit power is too high")
            expect(page.locator("#downstream td.bad").first).to_be_visible()
            expect(page.locator("#chart-rtt polyline")).to_have_attribute("points", re.compile(" "))  # 2 readings
            expect(page.locator(f"#status a[href='/console/maintenance/{works}']")).to_contain_text("Node split")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = tmp_path / "console-live.png"
            page.screenshot(path=str(shot), full_page=False)
            shutil.copy(shot, ARTIFACTS / "console-live.png")
            page.click("#close")  # no note: refused, the session stays open
            expect(page.locator("#error")).to_contain_text("describe the work")
            # the page shown again streams anew; its look is audited before its first reading shows
            expect(page.locator("#grade")).to_have_text("bad", timeout=10_000)
            page.fill("#note", "splitter replaced, levels back to normal")
            page.click("#close")
            expect(page.locator("#closed")).to_be_visible()
            assert errors == [], errors
        finally:
            browser.close()
    with net.read_session() as s:
        live = s.scalars(sa.select(LiveSession)).one()
        assert (live.state, live.note, live.contact_ref) == ("closed", "splitter replaced, levels back to normal",
                                                             "CALL-42")
        actions = list(s.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("live.%"))
                                 .order_by(AuditEntry.seq)))
    assert actions == ["live.refuse", "live.open", "live.stream", "live.stream", "live.close"]  # page shown twice


def test_signing_out_and_revoking_the_token_end_the_console_session(browser_client: TestClient,
                                                                    tokens: dict[str, str], net: Database) -> None:
    from noc.auth.service import revoke_tokens, user_by_name
    from noc.core.security import SYSTEM

    assert sign_in(browser_client, tokens["agent"]).status_code == 303
    page = browser_client.get("/console/live")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    assert browser_client.post("/console/logout", data={}).status_code == 403  # no CSRF token
    out = browser_client.post("/console/logout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303 and browser_client.get("/console/live").status_code == 303
    assert sign_in(browser_client, tokens["agent"]).status_code == 303
    assert browser_client.get("/console/live").status_code == 200
    with net.session() as s:
        user = user_by_name(s, "u-agent")
        assert user is not None
        revoke_tokens(s, user, SYSTEM)
    assert browser_client.get("/console/live").status_code == 303
