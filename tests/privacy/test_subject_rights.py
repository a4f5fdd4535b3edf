"""Subject access, erasure under holds, and retention with a clock, over real SQLite and PostgreSQL: a subscriber
with measurements, a complaint case and its evidence pack, mails, opt-outs, a CPE verdict and audit entries, beside
a second subscriber whose data must never show up."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.audit.service import record, verify_chain
from noc.complaints.measurements import MeasurementWriter, read_records
from noc.complaints.models import Measurement
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.inventory.models import Cpe, NotificationOptOut, Subscriber
from noc.live.models import OBJECT, LiveReading, LiveSession
from noc.maintenance.notices import queue_notices
from noc.maintenance.service import NoticePolicy
from noc.outbox.models import OutboxMessage
from noc.outbox.service import enqueue
from noc.polling.models import CpeHealth
from noc.privacy.service import records_of_processing, run_retention
from tests.complaints.conftest import LJ, csv_bytes, rows
from tests.complaints.conftest import client as client
from tests.complaints.conftest import handler as handler
from tests.complaints.conftest import net as net
from tests.complaints.conftest import tokens as tokens

OTHER = {"name": "Maja Horvat", "username": "mhorvat", "email": "maja.horvat@example.si", "phone": "+38640111222",
         "tax": "87654321", "test": "O0c0ffee0-aaaa-4bbb-8ccc-000000000042"}
PERSONAL = ("username", "name", "phone", "email", "tax_number")


def plant(db: Database) -> dict[str, int]:
    """Contact data, measurements, mails, opt-outs and a CPE verdict for S-1, and the same kinds for S-2."""
    now = datetime.now(UTC)
    with db.session() as s:
        one = s.scalar(sa.select(Subscriber).where(Subscriber.number == "S-1"))
        two = s.scalar(sa.select(Subscriber).where(Subscriber.number == "S-2"))
        assert one is not None and two is not None
        one.email, one.phone = "janez.novak@example.si", "+38641123456"
        two.email, two.phone, two.tax_number = OTHER["email"], OTHER["phone"], OTHER["tax"]
        s.add_all([NotificationOptOut(subscriber_id=one.id, category="network_issues"),
                   NotificationOptOut(subscriber_id=two.id, category="maintenance")])
        spec = [(now - timedelta(days=d), 40.0, 8.0) for d in (1, 2, 900)]
        records = [*rows(spec), {**rows([(now - timedelta(days=1), 90.0, 9.0)], subscriber="S-2")[0],
                                 "open_test_uuid": OTHER["test"]}]
        content = csv_bytes(records)
        MeasurementWriter(s, SYSTEM, reason="test", via="test").store(content, read_records("m.csv", content))
        for subscriber, address in ((one, one.email), (two, two.email)):
            enqueue(s, "email", address, {"notice": 99, "subscriber": subscriber.id},
                    f"maintenance:99:announcement:0:{subscriber.id}", topic="maintenance:99:announcement:0")
        cpe = s.scalar(sa.select(Cpe).where(Cpe.serial == "CM0001"))
        assert cpe is not None
        s.add(CpeHealth(cpe_id=cpe.id, at=utcnow(), grade="marginal", findings="[]"))
        live = LiveSession(agent_id=1, agent="u-agent", agent_role="agent", subscriber_id=one.id, cpe_id=cpe.id,
                           caller_number="+38641123456", consent=True, contact_ref="CALL-7", reason="drops at night",
                           state="closed", opened_at=now - timedelta(days=40), expires_at=now - timedelta(days=40),
                           closed_at=now - timedelta(days=40), closed_by="u-agent", note="checked")
        s.add(live)
        s.flush()
        s.add(LiveReading(session_id=live.id, at=now - timedelta(days=40), state="ok", grade="good",
                          reading='{"rtt_ms": 3.1}'))
        record(s, SYSTEM, "live.open", OBJECT, str(live.id), reason="drops at night")
        record(s, SYSTEM, "live.open", OBJECT, str(live.id + 1000), reason="someone else's session")
        s.commit()
        return {"S-1": one.id, "S-2": two.id}


def lodge(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    today = datetime.now(LJ).date().isoformat()
    case = client.post("/api/v1/complaints", headers=headers, json={
        "subscriber": "S-1", "channel": "email", "description": "Počasen internet zvečer", "learned_on": today,
        "invoice_date": today, "lodged_on": today})
    assert case.status_code == 201, case.text
    body: dict[str, Any] = case.json()
    pack = client.post(f"/api/v1/complaints/{body['id']}/evidence", headers={**headers, "X-Noc-Reason": "case"})
    assert pack.status_code == 201, pack.text
    return body


def announce(client: TestClient, net: Database, rt: Runtime, admin: dict[str, str]) -> int:
    """A maintenance window on S-1's segment, its announcement queued as the notices job does: the id."""
    start = datetime.now(UTC) + timedelta(days=3)
    window = client.post("/api/v1/maintenance/windows", headers=admin, json={
        "title": "Zamenjava usmerjevalnika", "segments": ["sg-1"], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert window.status_code == 201, window.text
    queue_notices(net, NoticePolicy.from_settings(rt.settings))
    return int(window.json()["id"])


def test_the_export_holds_every_kind_and_nothing_of_another_subscriber(
        client: TestClient, net: Database, rt: Runtime, handler: dict[str, str], tokens: dict[str, str]) -> None:
    ids = plant(net)
    lodge(client, handler)
    window = announce(client, net, rt, {"Authorization": f"Bearer {tokens['admin']}"})
    path = f"/api/v1/subscribers/{ids['S-1']}/export"
    missing = client.get(path, headers=handler)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "header.X-Noc-Reason"
    viewer = client.get(path, headers={"Authorization": f"Bearer {tokens['viewer']}", "X-Noc-Reason": "x"})
    assert viewer.status_code == 403
    answer = client.get(path, headers={**handler, "X-Noc-Reason": "subject access request SAR-7"})
    assert answer.status_code == 200, answer.text
    text = answer.text
    data = answer.json()["data"]
    for kind in ("subscribers", "contracts", "cpes", "notice_opt_outs", "mails", "cpe_health", "measurements",
                 "complaint_cases", "evidence_packs", "audit_entries", "live_sessions", "live_readings"):
        assert data.get(kind), f"export has no {kind}: {sorted(k for k, v in data.items() if v)}"
    assert data["subscribers"][0]["email"] == "janez.novak@example.si"
    assert len(data["measurements"]) == 3 and data["mails"][0]["to"] == "janez.novak@example.si"
    notices = [m for m in data["mails"] if m["topic"].startswith(f"maintenance:{window}:announcement")]
    assert len(notices) == 1 and notices[0]["about"]["subscriber"] == ids["S-1"], data["mails"]
    assert len(data["mails"]) == 2  # the planted mail and the real notice
    for value in OTHER.values():
        assert value not in text, f"the export of S-1 carries S-2's {value!r}"
    about = {(e["object_type"], e["action"]) for e in data["audit_entries"]}
    assert {("live_session", "live.open"), ("complaint", "complaint.open"), ("contract", "contract.create"),
            ("cpe", "cpe.create")} <= about, about  # entries about their records, not only about the subscriber
    assert all(e["reason"] != "someone else's session" for e in data["audit_entries"])
    assert any(e["action"] == "subscriber.export" and e["reason"] == "subject access request SAR-7"
               for e in client.get(path, headers={**handler, "X-Noc-Reason": "again"}).json()["data"]["audit_entries"])

    archive = client.get(path, params={"format": "zip"}, headers={**handler, "X-Noc-Reason": "portability"})
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = z.namelist()
        exported = json.loads(z.read("export.json"))
        pack_name = exported["data"]["evidence_packs"][0]["file"]
        assert pack_name in names
        assert zipfile.ZipFile(io.BytesIO(z.read(pack_name))).testzip() is None


def test_erasure_is_refused_under_an_open_case_and_then_leaves_no_personal_field(
        client: TestClient, net: Database, handler: dict[str, str], tokens: dict[str, str]) -> None:
    ids = plant(net)
    case = lodge(client, handler)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    path = f"/api/v1/subscribers/{ids['S-1']}/erase"
    assert client.post(path, json={}, headers=admin).json()["error"]["field"] == "reason"
    assert client.post(path, json={"reason": "x"}, headers=handler).status_code == 403
    refused = client.post(path, json={"reason": "erasure request E-3"}, headers=admin)
    assert refused.status_code == 409, refused.text
    assert f"complaint case {case['id']} is open" in refused.json()["error"]["message"]

    decided = client.post(f"/api/v1/complaints/{case['id']}/decision", headers=handler,
                          json={"outcome": "rejected", "note": "no discrepancy"})
    assert decided.status_code == 200, decided.text
    hold = client.post(f"/api/v1/subscribers/{ids['S-1']}/holds", json={"reason": "court order 12/2026"},
                       headers=admin)
    assert hold.status_code == 201, hold.text
    held = client.post(path, json={"reason": "erasure request E-3"}, headers=admin)
    assert held.status_code == 409 and "court order 12/2026" in held.json()["error"]["message"]
    released = client.post(f"/api/v1/subscribers/{ids['S-1']}/holds/{hold.json()['id']}/release",
                           json={"reason": "order lifted"}, headers=admin)
    assert released.status_code == 200 and released.json()["released_by"] == "u-admin"

    erased = client.post(path, json={"reason": "erasure request E-3"}, headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["measurements"] == 3
    export = client.get(f"/api/v1/subscribers/{ids['S-1']}/export", headers={**handler, "X-Noc-Reason": "check"})
    text, data = export.text, export.json()["data"]
    for value in ("Janez", "Novak", "jnovak", "janez.novak@example.si", "+38641123456", "28159080",
                  "Počasen internet"):
        assert value not in text, f"{value!r} survived erasure"
    subscriber = data["subscribers"][0]
    assert all(not subscriber[f] or subscriber[f] in ("(erased)", f"erased-{ids['S-1']}") for f in PERSONAL)
    assert not data["measurements"] and not data["evidence_packs"] and not data["notice_opt_outs"]
    assert not data["live_readings"] and data["live_sessions"][0]["caller_number"] == ""
    assert data["complaint_cases"][0]["outcome"] == "rejected"  # the decision's facts stay
    with net.read_session() as s:
        assert verify_chain(s).ok
        other = s.scalar(sa.select(Subscriber).where(Subscriber.id == ids["S-2"]))
        assert other is not None and other.name == OTHER["name"] and other.email == OTHER["email"]
        assert s.scalar(sa.select(sa.func.count()).select_from(Measurement)
                        .where(Measurement.subscriber_id == ids["S-2"])) == 1


def test_retention_removes_what_expired_and_spares_an_open_case(
        client: TestClient, net: Database, rt: Runtime, handler: dict[str, str]) -> None:
    ids = plant(net)
    later = datetime.now(UTC) + timedelta(days=200)
    with net.session() as s:
        s.execute(sa.update(OutboxMessage).values(state="sent"))
        s.commit()
    case = lodge(client, handler)  # S-1 has an open case: their 900-day-old measurement stays
    counts = run_retention(net, rt.settings, rt.personal_data, now=later)
    assert counts["mails"] == 2 and counts["measurements"] == 0, counts
    assert counts["live_readings"] == 0, counts  # S-1 is held by the open case
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Measurement)
                        .where(Measurement.subscriber_id == ids["S-1"])) == 3
    client.post(f"/api/v1/complaints/{case['id']}/decision", headers=handler,
                json={"outcome": "rejected", "note": "ok"}).raise_for_status()
    counts = run_retention(net, rt.settings, rt.personal_data, now=later)
    assert counts["measurements"] == 1, counts  # only the one older than 730 days on the clock
    far = datetime.now(UTC) + timedelta(days=365 * 3 + 30)
    counts = run_retention(net, rt.settings, rt.personal_data, now=far)
    assert counts["complaint_cases"] == 1 and counts["evidence_packs"] == 1, counts
    with net.read_session() as s:
        assert verify_chain(s).ok
        assert s.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 2


def test_the_records_of_processing_are_what_the_code_declares(rt: Runtime) -> None:
    document = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
    expected = records_of_processing(rt.personal_data, rt.settings)
    assert document.read_text().startswith(expected), "docs/privacy.md is stale: regenerate its table with " \
        "`noc privacy records`"
