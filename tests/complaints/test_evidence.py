"""Evidence packs: the zip's files, the PDF's text (read back with pypdf), manifest hashes, stored versions that
never change, and release against the subscriber's tax number."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from noc.audit.models import AuditEntry
from noc.complaints.models import PackRelease
from noc.core.db import Database
from tests.complaints.conftest import TAX, campaign_days, csv_bytes, local, rows
from tests.complaints.test_record import EVENINGS, utilization

PREFIX = "complaint-1-v{}/"


@pytest.fixture
def case(client: TestClient, handler: dict[str, str], net: Database) -> dict[str, Any]:
    days = campaign_days()
    times = [local(d, c) for d, c in zip(days, EVENINGS, strict=True)]
    spec = [(t, 41.5 + k, 10.4) for k, t in enumerate(times)] + [(local(days[1], "12:00"), 35.0, 6.0, "WLAN")]
    loaded = client.post("/api/v1/measurements/import", files={"file": ("m.csv", csv_bytes(rows(spec)))},
                         headers=handler)
    assert loaded.status_code == 201, loaded.text
    utilization(net, times, 0.83)
    answer = client.post("/api/v1/complaints", headers=handler, json={
        "subscriber": "S-1", "channel": "email", "description": "Zvečer je internet počasen.",
        "learned_on": str(days[0]), "event_date": str(days[0]), "lodged_on": str(days[-1]),
        "period_from": str(days[0]), "period_to": str(days[-1])})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def files_of(content: bytes, version: int = 1) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name.removeprefix(PREFIX.format(version)): archive.read(name) for name in archive.namelist()}


def test_the_pack_holds_pdf_json_csv_and_a_manifest_that_matches(client: TestClient, handler: dict[str, str],
                                                                case: dict[str, Any]) -> None:
    answer = client.get(f"/api/v1/complaints/{case['id']}/evidence", headers=handler)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["x-noc-pack-version"] == "1"
    assert answer.headers["x-noc-pack-sha256"] == hashlib.sha256(answer.content).hexdigest()
    files = files_of(answer.content)
    assert set(files) == {"evidence.pdf", "record.json", "measurements.csv", "manifest.json", "SHA256SUMS"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["algorithm"] == "SHA-256" and set(manifest["files"]) == {"evidence.pdf", "record.json",
                                                                            "measurements.csv"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"] and len(files[name]) == entry["bytes"]
    sums = dict(reversed(line.split("  ")) for line in files["SHA256SUMS"].decode().splitlines())
    assert sums == {n: e["sha256"] for n, e in manifest["files"].items()}
    data = json.loads(files["record.json"])
    assert data["record"]["verdict"] == "discrepancy" and data["record"]["cause"] == "access congestion"
    assert data["case"]["decision_due"] == case["decision_due"]
    table = list(csv.DictReader(io.StringIO(files["measurements.csv"].decode())))
    assert [r["open_test_uuid"] for r in table] == [m["open_test_uuid"] for m in data["record"]["measurements"]]
    assert {r["set_aside"] for r in table} == {"", "not_lan"}


def test_the_pdf_shows_every_measurement_and_verdict(client: TestClient, handler: dict[str, str],
                                                     case: dict[str, Any]) -> None:
    files = files_of(client.get(f"/api/v1/complaints/{case['id']}/evidence", headers=handler).content)
    data = json.loads(files["record.json"])["record"]
    reader = PdfReader(io.BytesIO(files["evidence.pdf"]))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert "Janez Novak Žagar" in text and "Kabel 100/10" in text
    assert "DISCREPANCY (download: DISCREPANCY, upload: NO DISCREPANCY)" in flat
    assert "Most likely cause: access congestion" in flat
    for measurement in data["measurements"]:
        assert measurement["open_test_uuid"] in text
        assert f"{measurement['download_mbps']:.2f}" in text
    for result in data["criteria"]:
        word = {"met": "met", "not_met": "NOT MET"}[result["verdict"]]
        assert f"{result['name']} ({result['direction']}): {word}" in flat
    for date_field in ("lodging_deadline", "decision_due"):
        assert case[date_field] in text
    assert "Measured speeds against the package's speeds" in text and "normally available 80" in text
    assert reader.metadata is not None and reader.metadata.title.startswith(f"Speed complaint {case['id']}")


def test_a_stored_version_never_changes_and_a_new_one_is_made_on_request(
        client: TestClient, handler: dict[str, str], case: dict[str, Any], net: Database) -> None:
    path = f"/api/v1/complaints/{case['id']}/evidence"
    first = client.get(path, headers=handler).content
    assert client.get(path, headers=handler).content == first
    made = client.post(path, headers=handler)
    assert made.status_code == 201 and made.json()["version"] == 2
    assert client.get(f"{path}?version=1", headers=handler).content == first
    newest = client.get(path, headers=handler)
    assert newest.headers["x-noc-pack-version"] == "2" and set(files_of(newest.content, 2)) >= {"evidence.pdf"}
    assert client.get(f"{path}?version=7", headers=handler).status_code == 404
    listed = client.get(f"/api/v1/complaints/{case['id']}", headers=handler).json()["evidence"]
    assert [p["version"] for p in listed] == [1, 2] and listed[0]["sha256"] == hashlib.sha256(first).hexdigest()


def test_release_needs_the_subscribers_tax_number(client: TestClient, handler: dict[str, str], case: dict[str, Any],
                                                  net: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = f"/api/v1/complaints/{case['id']}/evidence"
    assert client.post(f"{path}/release", json={"tax_number": TAX}, headers=handler).status_code == 404
    pack = client.get(path, headers=handler).content
    wrong = client.post(f"{path}/release", json={"tax_number": "12345678"}, headers=handler)
    assert wrong.status_code == 403 and wrong.json()["error"]["field"] == "tax_number"
    right = client.post(f"{path}/release", json={"tax_number": f"SI {TAX[:4]} {TAX[4:]}"}, headers=handler)
    assert right.status_code == 200 and right.content == pack
    with net.read_session() as s:
        actions = list(s.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("complaint.evidence%"))
                                 .order_by(AuditEntry.seq)))
        assert actions == ["complaint.evidence.generate", "complaint.evidence.download",
                           "complaint.evidence.release_refused", "complaint.evidence.release"]
        assert s.scalar(sa.select(sa.func.count()).select_from(PackRelease)) == 1
        details = " ".join(s.scalars(sa.select(AuditEntry.details)))
    assert TAX not in details and "12345678" not in details
    assert TAX not in caplog.text and "12345678" not in caplog.text
