"""The complaint handlers' console: cases due soon, a case with its verdicts, causes, chart and measurements, and
the evidence pack's download — over HTTP with the console's cookie, and in headless Chromium with a screenshot."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.core.db import Database
from noc.core.settings import Settings
from tests.complaints.test_evidence import case as case
from tests.live.conftest import Server
from tests.live.test_console import ARTIFACTS, CHROMIUM, FLAGS
from tests.support.console import check_roles, signed_in_at


@pytest.fixture
def console(settings: Settings, net: Database) -> Any:
    with TestClient(create_app(settings, net, scheduler=False), follow_redirects=False) as client:
        yield client


def test_cases_due_and_a_case_with_its_record(console: TestClient, client: TestClient, tokens: dict[str, str],
                                              handler: dict[str, str], case: dict[str, Any],
                                              net: Database) -> None:
    check_roles(console, "/console/complaints", tokens["agent"], tokens["complaint_handler"])  # agents: no
    listing = console.get("/console/complaints?due_within=30&lang=en")
    assert listing.status_code == 200 and f'href="/console/complaints/{case["id"]}"' in listing.text
    assert "S-1" in listing.text and "Decisions due" in listing.text
    page = console.get(f"/console/complaints/{case['id']}?lang=en")
    assert page.status_code == 200
    assert re.search(r'id="verdict"[^>]*>discrepancy<', page.text)
    assert re.search(r'id="cause">access congestion<', page.text)
    measurements = case_measurements(client, handler, case)
    assert page.text.count('class="m"') == 2 * measurements  # a dot per measurement in each direction's chart
    assert "No pack yet" in page.text
    made = client.post(f"/api/v1/complaints/{case['id']}/evidence", headers=handler)
    assert made.status_code == 201
    page = console.get(f"/console/complaints/{case['id']}")
    link = f"/console/complaints/{case['id']}/evidence/1"
    assert link in page.text
    download = console.get(link)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    api = client.get(f"/api/v1/complaints/{case['id']}/evidence?version=1", headers=handler)
    assert download.content == api.content  # the stored bytes, whoever asks
    assert zipfile.ZipFile(io.BytesIO(download.content)).testzip() is None
    assert console.get(f"/console/complaints/{case['id']}/evidence/9").status_code == 404
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "complaint.evidence.download", AuditEntry.reason == "console")) == 1


def case_measurements(client: TestClient, handler: dict[str, str], case: dict[str, Any]) -> int:
    record = client.get(case["record"], headers=handler)
    assert record.status_code == 200, record.text
    return len(record.json()["measurements"])


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_the_complaint_console_in_headless_chromium(settings: Settings, net: Database, tokens: dict[str, str],
                                                    client: TestClient, handler: dict[str, str],
                                                    case: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert client.post(f"/api/v1/complaints/{case['id']}/evidence", headers=handler).status_code == 201
    with Server(settings, net) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="sl-SI", accept_downloads=True)
            errors = signed_in_at(page, f"{server.url}/console/complaints?due_within=30", tokens["complaint_handler"])
            page.click(f"#due a[href='/console/complaints/{case['id']}']")
            expect(page.locator("#verdict")).to_have_text("discrepancy")
            expect(page.locator("#cause")).to_have_text("access congestion")
            expect(page.locator("#chart-download circle.m").first).to_be_visible()
            expect(page.locator("#chart-download line.minimum")).to_have_count(1)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = tmp_path / "console-complaint.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(shot, ARTIFACTS / "console-complaint.png")
            with page.expect_download() as info:
                page.click("#packs a.download")
            saved = tmp_path / "pack.zip"
            info.value.save_as(saved)
            assert zipfile.ZipFile(saved).testzip() is None
            assert errors == [], errors
        finally:
            browser.close()
