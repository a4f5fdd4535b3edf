"""Works and outages in the console: the current and coming windows (a segment's too), and a window with the
subscribers it reaches by segment and how its notices are going, without any subscriber's number; over HTTP with
the console's cookie, and in headless Chromium with a screenshot."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.settings import Settings
from tests.live.conftest import Server
from tests.live.test_console import ARTIFACTS, CHROMIUM, FLAGS
from tests.maintenance.conftest import deliver
from tests.maintenance.test_notices import schedule
from tests.support.console import check_roles, signed_in_at


@pytest.fixture
def console(settings: Settings, net: Database, rt: Runtime) -> Any:
    with TestClient(create_app(settings, scheduler=False, rt=rt), follow_redirects=False) as client:
        yield client


def test_windows_and_a_window_with_its_reach_and_notices(console: TestClient, client: TestClient,
                                                          tokens: dict[str, str], rt: Runtime) -> None:
    window = schedule(client, tokens)
    deliver(rt)
    check_roles(console, "/console/maintenance", tokens["viewer"], tokens["noc_engineer"])  # viewers: no network
    listing = console.get("/console/maintenance?lang=en")
    assert listing.status_code == 200 and "Works and outages" in listing.text
    current = listing.text.split('id="current"')[1].split('id="past"')[0]
    assert f'href="/console/maintenance/{window["id"]}"' in current and "scheduled" in current
    assert "sg-1" in current and str(window["title"]) in current
    elsewhere = console.get("/console/maintenance?segment=sg-9")  # an agent asking about a caller's segment
    assert f'/console/maintenance/{window["id"]}"' not in elsewhere.text
    assert f'/console/maintenance/{window["id"]}"' in console.get("/console/maintenance?segment=SG-").text

    page = console.get(f"/console/maintenance/{window['id']}?lang=en")
    assert page.status_code == 200
    reach = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.text.split('id="reach">')[1].split("</p>")[0]))
    assert reach == "In all 5: by e-mail 3, opted out 1, without e-mail 1"
    notices = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text.split('id="notices"')[1].split("</table>")[0]))
    assert "announcement" in notices and " 5 3 0 0 0 " in notices  # audience, sent, queued, failed, withdrawn
    assert not re.search(r"S-\d", page.text)  # counts only: no subscriber on the page, whoever reads it
    assert console.get("/console/maintenance/999").status_code == 404


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_maintenance_console_in_headless_chromium(settings: Settings, net: Database, rt: Runtime,
                                                      client: TestClient, tokens: dict[str, str],
                                                      tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    window = schedule(client, tokens)
    deliver(rt)
    with Server(settings, net) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="sl-SI")
            errors = signed_in_at(page, f"{server.url}/console/maintenance", tokens["agent"])
            page.fill("#segment", "sg-1")
            page.click("main button[type=submit]")
            page.click(f"#current a[href='/console/maintenance/{window['id']}']")
            expect(page.locator("#status")).to_have_text("napovedana")
            expect(page.locator("#segments tr")).to_have_count(2)  # the header and sg-1
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = tmp_path / "console-maintenance.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, ARTIFACTS / "console-maintenance.png")
            assert errors == [], errors
        finally:
            browser.close()
