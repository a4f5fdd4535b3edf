"""Works and outages in the console: the current and coming windows (a segment's too), and a window with the
subscribers it reaches by segment and how its notices are going, without any subscriber's number; works planned,
outages declared, works cancelled and outages resolved by NOC engineers through the service the API uses; over
HTTP with the console's cookie, and in headless Chromium with a screenshot."""

from __future__ import annotations

import html
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.core.settings import Settings
from tests.live.conftest import Server
from tests.live.test_console import ARTIFACTS, CHROMIUM, FLAGS
from tests.maintenance.conftest import deliver
from tests.maintenance.test_notices import schedule
from tests.support.api import auth
from tests.support.console import check_roles, sign_in, signed_in_at


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


def csrf_of(page: Any) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def test_works_planned_changed_and_cancelled_an_outage_declared_and_resolved(console: TestClient, client: TestClient,
                                                                     tokens: dict[str, str], rt: Runtime) -> None:
    assert sign_in(console, tokens["agent"]).status_code == 303
    assert console.get("/console/maintenance/new").status_code == 403  # agents read works, they do not plan them
    assert 'id="plan"' not in console.get("/console/maintenance").text
    console.cookies.clear()
    assert sign_in(console, tokens["noc_engineer"]).status_code == 303
    assert 'id="plan"' in console.get("/console/maintenance").text
    form = console.get("/console/maintenance/new?lang=en")
    assert form.status_code == 200 and '<option value="sg-1">' in form.text
    tz = ZoneInfo(rt.settings.timezone)
    start = (utcnow() + timedelta(days=5)).astimezone(tz).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    works = {"kind": "planned", "title": "Node split", "segments": "sg-1", "impact": "outage",
             "starts_at": start.isoformat(timespec="minutes"),
             "ends_at": (start + timedelta(hours=3)).isoformat(timespec="minutes"),
             "description_sl": "Delitev vozlišča.", "description_en": "Node split.", "reason": "capacity"}
    assert console.post("/console/maintenance/new", data=works).status_code == 403  # no CSRF token
    token = csrf_of(form)
    for wrong, field, message in (({"segments": "sg-1, sg-9"}, "segments.1", "no segment 'sg-9'"),
                                  ({"starts_at": "tomorrow"}, "starts_at", "a date and time is required"),
                                  ({"starts_at": (start - timedelta(days=4)).isoformat(timespec="minutes")},
                                   "starts_at", "planned works need 48 h notice"),
                                  ({"title": ""}, "title", "at least 1 character")):
        refused = console.post("/console/maintenance/new?lang=en", data={**works, **wrong, "csrf": token})
        assert refused.status_code == 422, refused.text
        shown = re.search(r'id="error" data-field="([^"]*)">([^<]*)<', refused.text)
        assert shown and shown.group(1) == field and message in html.unescape(shown.group(2)), (wrong, shown)
        assert 'value="Delitev vozlišča.' not in refused.text and "Delitev vozlišča.</textarea>" in refused.text
    assert client.get("/api/v1/maintenance/windows", headers=auth(tokens["agent"])).json()["total"] == 0
    made = console.post("/console/maintenance/new", data={**works, "csrf": token})
    assert made.status_code == 303
    window_id = int(made.headers["location"].rsplit("/", 1)[1])
    window = client.get(f"/api/v1/maintenance/windows/{window_id}", headers=auth(tokens["agent"])).json()
    assert window["title"] == "Node split" and window["segments"] == ["sg-1"]
    utc = start.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))  # the form's times are the operator's local times
    assert window["starts_at"].startswith(utc.strftime("%Y-%m-%dT%H:%M"))
    edit = console.get(made.headers["location"] + "/edit")  # the form holds the window as it is
    assert edit.status_code == 200 and f'value="{works["starts_at"]}"' in edit.text and 'value="sg-1"' in edit.text
    later = {**works, "ends_at": (start + timedelta(hours=4)).isoformat(timespec="minutes"), "csrf": token}
    assert console.post(made.headers["location"] + "/edit", data={**later, "segments": "sg-9"}).status_code == 422
    assert console.post(made.headers["location"] + "/edit", data=later).status_code == 303
    changed = client.get(f"/api/v1/maintenance/windows/{window_id}", headers=auth(tokens["agent"])).json()
    assert changed["sequence"] == 1 and changed["ends_at"] > window["ends_at"]  # subscribers get an update
    notices = client.get(f"/api/v1/maintenance/windows/{window_id}/notices", headers=auth(tokens["agent"])).json()
    assert [n["kind"] for n in notices] == ["announcement", "update"]
    page = console.get(made.headers["location"])
    assert 'id="end"' in page.text and 'id="edit"' in page.text
    ended = console.post(made.headers["location"] + "/end", data={"csrf": csrf_of(page), "reason": "moved to spring"})
    assert ended.status_code == 303
    assert client.get(f"/api/v1/maintenance/windows/{window_id}", headers=auth(tokens["agent"])).json()[
        "status"] == "cancelled"
    again = console.post(made.headers["location"] + "/end", data={"csrf": csrf_of(page), "reason": "twice"})
    assert again.status_code == 303  # cancelling twice changes nothing
    assert not re.search(r'id="(end|edit)"', console.get(made.headers["location"]).text)  # cancelled: as it is

    outage = console.post("/console/maintenance/new", data={"kind": "outage", "title": "Fibre cut",
                                                           "segments": "sg-1", "impact": "outage", "csrf": token})
    assert outage.status_code == 303
    page = console.get(outage.headers["location"] + "?lang=en")
    assert re.search(r'id="status"[^>]*>ongoing<', page.text)
    assert console.post(outage.headers["location"] + "/end", data={"csrf": csrf_of(page)}).status_code == 303
    assert re.search(r'id="status"[^>]*>resolved<', console.get(outage.headers["location"] + "?lang=en").text)
    with rt.db.read_session() as s:
        done = [(a.action, a.actor, a.reason) for a in s.query(AuditEntry).filter(
            AuditEntry.action.like("maintenance.%")).order_by(AuditEntry.seq)]
    assert done == [("maintenance.create", "u-noc_engineer", "capacity"),
                    ("maintenance.update", "u-noc_engineer", "capacity"),
                    ("maintenance.cancel", "u-noc_engineer", "moved to spring"),
                    ("maintenance.outage", "u-noc_engineer", ""), ("maintenance.resolve", "u-noc_engineer", "")]


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
            engineer = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="sl-SI").new_page()
            errors = signed_in_at(engineer, f"{server.url}/console/maintenance", tokens["noc_engineer"])
            engineer.click("#declare")
            engineer.fill("#title", "Prekinjen optični kabel")
            engineer.fill("#segments", "sg-1")
            engineer.fill("#description_sl", "Ekipa je na poti.")
            shot = tmp_path / "console-maintenance-new.png"
            engineer.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, ARTIFACTS / "console-maintenance-new.png")
            engineer.click("#create")
            expect(engineer.locator("#status")).to_have_text("traja")
            engineer.click("#end")  # a reason first: no cancellation or resolution by a stray click
            expect(engineer.locator("#status")).to_have_text("traja")
            engineer.fill("#end-reason", "kabel zvarjen")
            engineer.click("#end")
            expect(engineer.locator("#status")).to_have_text("odpravljen")
            assert errors == [], errors
        finally:
            browser.close()
