"""The discrepancy record over HTTP: the method's verdict, each measurement's network context, the likely cause."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.audit.models import AuditEntry
from noc.capacity.rollups import store_points
from noc.complaints.models import CaptureReading, ComplaintCase
from noc.core.db import Database
from noc.inventory.models import Cpe
from noc.polling.events import SegmentPoint
from noc.polling.models import CpeHealth
from tests.complaints.conftest import campaign_days, csv_bytes, ids, local, rows

EVENINGS = ["21:30", "22:40", "21:10", "22:50", "21:45"]


def load(client: TestClient, handler: dict[str, str], spec: list[Any]) -> None:
    answer = client.post("/api/v1/measurements/import", files={"file": ("m.csv", csv_bytes(rows(spec)))},
                         headers=handler)
    assert answer.status_code == 201, answer.text


def utilization(db: Database, around: list[datetime], share: float, direction: str = "down") -> None:
    """Segment points every 30 s for 10 minutes around each time (30-second rollups, via capacity's service)."""
    sid = ids(db)["sg-1"]
    capacity = 1e9 if direction == "down" else 1e8
    points = [SegmentPoint(sid, direction, int(at.timestamp()) - 300 + k * 30, share * capacity, capacity)
              for at in around for k in range(20)]
    with db.session() as s:
        assert store_points(s, points, 30) > 0


def record(client: TestClient, handler: dict[str, str], **params: str) -> dict[str, Any]:
    days = campaign_days()
    query = {"from": str(days[0]), "to": str(days[-1]), **params}
    answer = client.get(f"/api/v1/subscribers/{client.app_ids['S-1']}/discrepancy",  # type: ignore[attr-defined]
                        params=query, headers={**handler, "X-Noc-Reason": "complaint 7"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def with_ids(client: TestClient, db: Database) -> TestClient:
    client.app_ids = ids(db)  # type: ignore[attr-defined]
    return client


def test_congested_evenings_give_a_discrepancy_caused_by_access_congestion(
        client: TestClient, handler: dict[str, str], net: Database) -> None:
    times = [local(d, c) for d, c in zip(campaign_days(), EVENINGS, strict=True)]
    load(client, handler, [(t, 42.0, 10.2) for t in times])
    utilization(net, times, 0.86)
    body = record(with_ids(client, net), handler)
    assert body["verdict"] == "discrepancy" and body["campaign"]["valid"]
    assert body["directions"] == {"download": "discrepancy", "upload": "no_discrepancy"}
    assert body["cause"] == "access congestion"
    assert "5 of 5 slow download measurements ran while sg-1 was at 86%–86% downstream" in body["causes"][0]["evidence"]
    assert body["package"]["download"] == {"maximum": 100.0, "normal": 80.0, "minimum": 50.0}
    context = body["measurements"][0]["context"]
    assert context["segment"] == "sg-1" and abs(context["utilization"]["down"] - 0.86) < 1e-9
    assert context["utilization"]["up"] is None and context["cpe_health"] is None
    failed = {(c["name"], c["direction"]) for c in body["criteria"] if c["verdict"] == "not_met"}
    assert failed == {("maximum_reached", "download"), ("normally_available_average", "download"),
                      ("minimum_never_undercut", "download")}
    with net.read_session() as s:
        entry = s.scalar(sa.select(AuditEntry).where(AuditEntry.action == "complaint.record.read"))
        assert entry is not None and entry.reason == "complaint 7"


def test_bad_line_health_around_the_measurements_is_a_line_fault(client: TestClient, handler: dict[str, str],
                                                                   net: Database) -> None:
    days = campaign_days()
    times = [local(d, "11:00") for d in days]
    load(client, handler, [(t, 42.0, 10.2) for t in times])
    utilization(net, times, 0.20)
    answer = client.post("/api/v1/complaints", headers=handler, json={
        "subscriber": "S-1", "channel": "phone", "learned_on": str(days[0]), "invoice_date": str(days[0])})
    assert answer.status_code == 201, answer.text
    findings = [{"rule": "downstream_snr", "measurement": "docsis_downstream", "tags": {"channel": "3"},
                 "field": "snr_db", "value": 24.1, "grade": "bad"}]
    with net.session() as s:
        cpe_id = s.scalar(sa.select(Cpe.id).where(Cpe.serial == "CM0001"))
        case_id = s.scalar(sa.select(ComplaintCase.id))
        for t in times:
            s.add(CaptureReading(case_id=case_id, cpe_id=cpe_id, at=t.astimezone(UTC) + timedelta(minutes=2),
                                 ok=True, grade="bad", readings=json.dumps(findings)))
    body = record(with_ids(client, net), handler)
    assert body["cause"] == "line or CPE fault"
    assert "downstream_snr: snr_db 24.1 (bad)" in body["causes"][0]["evidence"]
    health = body["measurements"][0]["context"]["cpe_health"]
    assert health["grade"] == "bad" and health["source"] == "capture" and health["findings"] == findings


def test_fleet_health_is_used_when_no_capture_is_near(client: TestClient, handler: dict[str, str],
                                                      net: Database) -> None:
    yesterday = campaign_days()[-1]
    at = local(yesterday, "10:00")
    load(client, handler, [(at, 42.0, 10.2)])
    with net.session() as s:
        cpe_id = s.scalar(sa.select(Cpe.id).where(Cpe.serial == "CM0001"))
        s.add(CpeHealth(cpe_id=cpe_id, at=at + timedelta(minutes=4), grade="marginal", findings="[]"))
    body = record(with_ids(client, net), handler, **{"from": str(yesterday), "to": str(yesterday)})
    health = body["measurements"][0]["context"]["cpe_health"]
    assert (health["grade"], health["source"]) == ("marginal", "fleet")
    assert body["verdict"] == "insufficient_evidence"
    assert body["campaign"]["missing"] == ["4 more measurements"]


def test_wifi_far_below_lan_points_at_in_home_wifi(client: TestClient, handler: dict[str, str],
                                                  net: Database) -> None:
    days = campaign_days()
    lan = [(local(d, "10:00"), 101.0, 10.2) for d in days]
    wlan = [(local(d, "12:00"), 31.0, 6.0, "WLAN") for d in days[:3]]
    load(client, handler, lan + wlan)
    body = record(with_ids(client, net), handler)
    assert body["verdict"] == "no_discrepancy"
    assert body["campaign"]["set_aside"] == {"not_lan": 3}
    assert body["cause"] == "in-home Wi-Fi"
    assert "median download over WLAN 31.0 Mbit/s (3 measurements)" in body["causes"][0]["evidence"]
    wifi = [m for m in body["measurements"] if m["medium"] == "wlan"]
    assert all(not m["counted"] and m["set_aside"] == "not_lan" for m in wifi)


def test_slow_without_congestion_fault_or_wifi_finds_none(client: TestClient, handler: dict[str, str],
                                                         net: Database) -> None:
    times = [local(d, "10:00") for d in campaign_days()]
    load(client, handler, [(t, 42.0, 10.2) for t in times])
    utilization(net, times, 0.30)
    body = record(with_ids(client, net), handler)
    assert body["verdict"] == "discrepancy" and body["cause"] == "none found" and body["causes"] == []


def test_bnetza_profile_and_bad_requests(client: TestClient, handler: dict[str, str], net: Database) -> None:
    with_ids(client, net)
    body = record(client, handler, profile="de-bnetza-2021")
    assert body["profile"]["name"] == "de-bnetza-2021" and body["verdict"] == "insufficient_evidence"
    assert body["campaign"]["missing"] == ["10 measurements on a first day", "10 measurements on a second day",
                                           "10 measurements on a third day"]
    sid = client.app_ids["S-1"]  # type: ignore[attr-defined]
    unknown = client.get(f"/api/v1/subscribers/{sid}/discrepancy?profile=fr-arcep", headers=handler)
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "profile"
    backwards = client.get(f"/api/v1/subscribers/{sid}/discrepancy?from=2026-03-10&to=2026-03-01", headers=handler)
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "to"
    before = client.get(f"/api/v1/subscribers/{sid}/discrepancy?from=2023-01-01&to=2023-01-05", headers=handler)
    assert before.status_code == 422 and "no contract" in before.json()["error"]["message"]
    assert client.get("/api/v1/subscribers/99999/discrepancy", headers=handler).status_code == 404
    profiles = client.get("/api/v1/complaint-profiles", headers=handler).json()
    assert {p["name"] for p in profiles} == {"si-akos", "de-bnetza-2021"}


def test_a_package_change_within_the_period_is_refused(client: TestClient, handler: dict[str, str],
                                                       net: Database, tokens: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    changed = client.post("/api/v1/contracts", headers=admin, json={
        "subscriber": "S-1", "package": "cable-100", "start_date": str(campaign_days()[2])})
    assert changed.status_code == 201, changed.text
    sid = ids(net)["S-1"]
    days = campaign_days()
    answer = client.get(f"/api/v1/subscribers/{sid}/discrepancy?from={days[0]}&to={days[-1]}", headers=handler)
    assert answer.status_code == 422 and f"changed on {days[2]}" in answer.json()["error"]["message"]
    assert client.get(f"/api/v1/subscribers/{sid}/discrepancy?from={days[2]}&to={days[-1]}",
                      headers=handler).status_code == 200
    assert date.fromisoformat(str(days[2]))  # the later part alone is judged
