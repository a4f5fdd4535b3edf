"""Complaint cases over HTTP: deadlines, late complaints and overrides, due lists, decisions, and the evidence
capture polling a simulated cable modem."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from collectors.sim import SimulatedNetwork
from noc.audit.models import AuditEntry
from noc.complaints.capture import capture_cycle
from noc.complaints.deadlines import decision_due
from noc.complaints.models import CaptureReading, ComplaintCase
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.inventory.models import Cpe, Credential
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling.health import load_health
from tests.complaints.conftest import LJ


def today() -> date:
    return datetime.now(LJ).date()


def lodge(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"subscriber": "S-1", "channel": "phone", "description": "Prenizka hitrost zvečer",
            "learned_on": "2026-11-01", "invoice_date": "2026-10-15", "lodged_on": "2026-11-10", **fields}
    return client.post("/api/v1/complaints", json=body, headers=headers)


def test_a_case_shows_its_deadlines_as_dates(client: TestClient, handler: dict[str, str], net: Database) -> None:
    answer = lodge(client, handler)
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["lodging_deadline"] == "2026-11-16"  # 15 days from 1 Nov: Mon 16 Nov
    assert case["decision_due"] == "2026-11-25"
    assert case["regulator_window"] == {"opens": "2026-11-26", "closes": "2026-12-10", "basis": "no_decision"}
    assert case["late"] is False and case["state"] == "open" and case["subscriber_name"] == "Janez Novak Žagar"
    assert (case["period_from"], case["period_to"]) == ("2026-11-01", "2026-11-14")
    assert case["record"].endswith("from=2026-11-01&to=2026-11-14&profile=si-akos")
    assert case["capture"]["active"] is False  # the period is over
    assert client.get(f"/api/v1/complaints/{case['id']}", headers=handler).json() == case
    with net.read_session() as s:
        entry = s.scalar(sa.select(AuditEntry).where(AuditEntry.action == "complaint.open"))
        assert entry is not None and "Prenizka" not in entry.details


def test_a_late_complaint_needs_an_override_with_a_reason(client: TestClient, handler: dict[str, str]) -> None:
    late = lodge(client, handler, learned_on="2026-10-01")
    assert late.status_code == 422
    error = late.json()["error"]
    assert error["field"] == "learned_on" and "had to be lodged by 2026-10-16" in error["message"]
    by_invoice = lodge(client, handler, learned_on="2026-11-05", invoice_date="2026-09-01")
    assert by_invoice.status_code == 422 and by_invoice.json()["error"]["field"] == "invoice_date"
    accepted = lodge(client, handler, learned_on="2026-10-01", override_reason="subscriber was in hospital")
    assert accepted.status_code == 201 and accepted.json()["late"] is True
    assert accepted.json()["late_override_reason"] == "subscriber was in hospital"
    needless = lodge(client, handler, override_reason="just in case")
    assert needless.status_code == 422 and needless.json()["error"]["field"] == "override_reason"


@pytest.mark.parametrize(("change", "field"), [
    ({"invoice_date": None}, "invoice_date"), ({"event_date": "2026-10-20"}, "invoice_date"),
    ({"subscriber": "S-404"}, "subscriber"), ({"channel": "pigeon"}, "channel"),
    ({"learned_on": "2026-11-12"}, "learned_on"), ({"lodged_on": "2999-01-01"}, "lodged_on"),
    ({"profile": "fr-arcep"}, "profile"), ({"period_to": "2026-10-01"}, "period_to"),
])
def test_bad_cases_are_refused_naming_the_field(client: TestClient, handler: dict[str, str],
                                                change: dict[str, Any], field: str) -> None:
    answer = lodge(client, handler, **change)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field, answer.text


def test_cases_due_within_n_days_soonest_first(client: TestClient, handler: dict[str, str]) -> None:
    made = {}
    for back in (40, 14, 9, 0):
        lodged = today() - timedelta(days=back)
        answer = lodge(client, handler, learned_on=str(lodged), invoice_date=str(lodged), lodged_on=str(lodged))
        assert answer.status_code == 201, answer.text
        made[answer.json()["id"]] = decision_due(lodged)
    due = client.get("/api/v1/complaints?due_within=3", headers=handler).json()
    expected = sorted((d, i) for i, d in made.items() if d <= today() + timedelta(days=3))
    assert [c["id"] for c in due["items"]] == [i for _, i in expected] and len(expected) >= 2
    assert client.get("/api/v1/complaints", headers=handler).json()["total"] == 4


def test_decision_with_remedy_ends_the_capture(client: TestClient, handler: dict[str, str],
                                               tokens: dict[str, str]) -> None:
    case = lodge(client, handler, learned_on=str(today()), invoice_date=str(today()), lodged_on=str(today())).json()
    assert case["capture"]["active"] is True
    path = f"/api/v1/complaints/{case['id']}/decision"
    missing = client.post(path, json={"outcome": "upheld"}, headers=handler)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "remedy"
    agent = {"Authorization": f"Bearer {tokens['agent']}"}
    assert client.post(path, json={"outcome": "rejected"}, headers=agent).status_code == 403
    decided = client.post(path, json={"outcome": "upheld", "remedy": "fee_reduction", "note": "50 % until fixed"},
                          headers=handler)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["state"], body["outcome"], body["remedy"], body["decided_on"]) == (
        "decided", "upheld", "fee_reduction", str(today()))
    assert body["regulator_window"]["basis"] == "decision" and body["regulator_window"]["opens"] == str(today())
    assert body["capture"] == {**body["capture"], "active": False, "end_reason": "case decided"}
    again = client.post(path, json={"outcome": "rejected"}, headers=handler)
    assert again.status_code == 409
    frozen = client.patch(f"/api/v1/complaints/{case['id']}", json={"profile": "de-bnetza-2021"}, headers=handler)
    assert frozen.status_code == 409


def test_changing_the_linked_record(client: TestClient, handler: dict[str, str]) -> None:
    case = lodge(client, handler).json()
    changed = client.patch(f"/api/v1/complaints/{case['id']}", headers=handler,
                           json={"period_from": "2026-11-02", "period_to": "2026-11-09", "profile": "de-bnetza-2021"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["record"].endswith("from=2026-11-02&to=2026-11-09&profile=de-bnetza-2021")


@pytest.fixture
def modem() -> Any:
    config = {"agents": [{"kind": "cable_modem", "name": "snr", "community": "cm-capture", "faults": ["low_snr"]}]}
    with SimulatedNetwork(config) as network:
        yield network


def test_evidence_capture_polls_the_cpe_while_the_case_is_open(client: TestClient, handler: dict[str, str],
                                                               net: Database, rt: Runtime, modem: Any) -> None:
    host, port, community = modem.endpoint("snr")
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    with net.session() as s:
        s.execute(sa.update(Credential).values(sealed=box.seal({"community": community})))
        s.execute(sa.update(Cpe).values(address=host, port=port, profile="docsis-cm"))
    case = lodge(client, handler, learned_on=str(today()), invoice_date=str(today()), lodged_on=str(today())).json()
    policy = load_health()
    first = capture_cycle(net, rt.settings, box, policy)
    second = capture_cycle(net, rt.settings, box, policy)
    assert (first.cases, first.readings, first.failed) == (1, 1, 0), first
    assert second.readings == 1
    readings = client.get(f"/api/v1/complaints/{case['id']}/readings", headers=handler).json()
    assert readings["total"] == 2
    newest = readings["items"][0]
    assert newest["ok"] and newest["grade"] == "bad", newest
    assert any(r["grade"] == "bad" and "snr" in r["field"].lower() for r in newest["readings"]), newest["readings"]
    client.post(f"/api/v1/complaints/{case['id']}/decision", json={"outcome": "rejected"}, headers=handler)
    assert capture_cycle(net, rt.settings, box, policy).readings == 0  # ended with the case
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(CaptureReading)) == 2


def test_a_capture_ends_with_its_period_and_an_unreachable_cpe_is_kept(client: TestClient, handler: dict[str, str],
                                                                      net: Database, rt: Runtime) -> None:
    case = lodge(client, handler, learned_on=str(today()), invoice_date=str(today()), lodged_on=str(today())).json()
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    settings = rt.settings.model_copy(update={"snmp_timeout_s": 0.2, "snmp_retries": 0})
    report = capture_cycle(net, settings, box, load_health())  # the CPE's port 9 answers nothing
    assert (report.readings, report.failed) == (1, 1)
    reading = client.get(f"/api/v1/complaints/{case['id']}/readings", headers=handler).json()["items"][0]
    assert (reading["ok"], reading["grade"], reading["error"]) == (False, "unreachable", "timeout")
    with net.session() as s:
        s.execute(sa.update(ComplaintCase).values(capture_until=utcnow()))
    ended = capture_cycle(net, settings, box, load_health())
    assert (ended.ended, ended.readings) == (1, 0)
    capture = client.get(f"/api/v1/complaints/{case['id']}", headers=handler).json()["capture"]
    assert capture["end_reason"] == "period ended" and json.dumps(capture)
