"""Maintenance notices end to end through the API, the notice jobs and a real SMTP server on loopback, on SQLite
and PostgreSQL: who is affected, what the mails say, opt-out, reminders, updates, cancellations, outages."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.maintenance.notices import plan_due, queue_notices
from noc.maintenance.service import NoticePolicy
from tests.maintenance.conftest import MAIL_FROM, PUBLIC_URL, deliver, outbox, planned, subscriber_id
from tests.support.api import auth
from tests.support.smtp import MailServer

NOTIFIED = {"user1@example.si": "sl", "user2@example.si": "en", "user3@example.si": "sl"}
"""The subscribers on sg-1 with a running contract, an address and no opt-out."""


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(mail: EmailMessage) -> str:
    body = mail.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def calendar_of(mail: EmailMessage) -> Calendar:
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "maintenance.ics"
    content = part.get_content()
    return Calendar.from_ical(content if isinstance(content, str) else content.decode())


def optout_path(mail: EmailMessage) -> str:
    """The opt-out link of a mail, as a path on the API (after checking the body and the header agree)."""
    header = str(mail["List-Unsubscribe"]).strip()
    assert header.startswith(f"<{PUBLIC_URL}/optout/") and header.endswith(">")
    url = header[1:-1]
    assert url in text_of(mail) and f'href="{url}"' in html_of(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return urlsplit(url).path


def schedule(client: TestClient, tokens: dict[str, str], **extra: object) -> dict[str, object]:
    created = client.post("/api/v1/maintenance/windows", json=planned(**extra), headers=auth(tokens["noc_engineer"]))
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


def test_scheduling_announces_once_to_each_affected_subscriber_in_their_language(
        client: TestClient, tokens: dict[str, str], rt: Runtime, smtp: MailServer) -> None:
    window = schedule(client, tokens)
    viewer, reader = auth(tokens["viewer"]), auth(tokens["agent"])
    assert client.get(f"/api/v1/maintenance/windows/{window['id']}/affected", headers=viewer).status_code == 403
    affected = client.get(f"/api/v1/maintenance/windows/{window['id']}/affected", headers=reader).json()
    assert (affected["total"], affected["notify"], affected["opted_out"], affected["no_email"]) == (5, 3, 1, 1)
    assert affected["segments"] == [{"segment": "sg-1", "subscribers": 5, "opted_out": 1, "no_email": 1, "notify": 3}]
    assert [(i["subscriber"], i["notice"]) for i in affected["items"]] == [
        ("S-1", "email"), ("S-2", "email"), ("S-3", "email"), ("S-4", "opted_out"), ("S-5", "no_email")]
    engineer = client.get(f"/api/v1/maintenance/windows/{window['id']}/affected",
                          headers=auth(tokens["noc_engineer"])).json()  # the counts, no subscribers
    assert (engineer["total"], engineer["notify"], engineer["segments"]) == (5, 3, affected["segments"])
    assert [(i["subscriber"], i["notice"]) for i in engineer["items"]] == [
        (None, "email"), (None, "email"), (None, "email"), (None, "opted_out"), (None, "no_email")]
    assert smtp.received == []  # nothing is sent before the notice job runs

    report = deliver(rt)
    deliver(rt)  # a second run sends nothing again
    assert report.sent == 3 and len(smtp.received) == 3
    for address, lang in NOTIFIED.items():
        [mail] = smtp.to(address)
        assert parseaddr(str(mail["From"])) == parseaddr(MAIL_FROM)
        assert mail["To"] == address and mail["Content-Language"] == lang
        text = text_of(mail)
        if lang == "sl":
            assert mail["Subject"].startswith("Napoved vzdrževalnih del v omrežju")
            assert "Zamenjali bomo ojačevalnik." in text and "Storitve v tem času ne bodo delovale." in text
        else:
            assert mail["Subject"].startswith("Planned network maintenance")
            assert "We will replace an amplifier." in text and "will not work" in text
        cal = calendar_of(mail)
        [event] = cal.walk("VEVENT")
        assert cal["METHOD"] == "PUBLISH" and event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
        assert str(event["UID"]) == f"maintenance-{window['id']}@kabel.example"
        assert event.decoded("DTSTART") == datetime.fromisoformat(str(window["starts_at"]))
        assert event.decoded("DTEND") == datetime.fromisoformat(str(window["ends_at"]))
        optout_path(mail)
    ids = {str(r.message["Message-ID"]) for r in smtp.received}
    assert len(ids) == 3
    [notice] = client.get(f"/api/v1/maintenance/windows/{window['id']}/notices", headers=reader).json()
    assert {k: notice[k] for k in ("kind", "subscribers", "opted_out", "no_email", "queued", "sent", "failed",
                                   "withdrawn")} == {"kind": "announcement", "subscribers": 5, "opted_out": 1,
                                                     "no_email": 1, "queued": 0, "sent": 3, "failed": 0,
                                                     "withdrawn": 0}


def test_the_opt_out_link_stops_the_reminder_and_the_cancellation(
        client: TestClient, tokens: dict[str, str], rt: Runtime, net: Database, smtp: MailServer) -> None:
    window = schedule(client, tokens)
    deliver(rt)
    [announcement] = smtp.to("user1@example.si")
    path = optout_path(announcement)

    page = client.get(path)
    assert page.status_code == 200 and "<form method=\"post\"" in page.text and "Odjavi me" in page.text
    done = client.post(path, content="List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # a mail program's one click
    assert done.status_code == 200 and "Odjavljeni ste" in done.text
    assert client.post(path).status_code == 200  # again: idempotent
    assert "Odjavljeni ste" in client.get(path).text
    person = client.get(f"/api/v1/subscribers/{subscriber_id(net, 'S-1')}", headers=auth(tokens["admin"])).json()
    assert person["notification_opt_outs"] == ["maintenance"]
    audit = client.get("/api/v1/audit?object_type=subscriber", headers=auth(tokens["admin"])).json()
    assert [(a["actor"], a["details"]["via"]) for a in audit if a["actor"].startswith("subscriber:")] == [
        ("subscriber:S-1", "optout-link")]  # once, although posted twice

    starts_at = datetime.fromisoformat(str(window["starts_at"]))
    reminders = deliver(rt, now=starts_at - timedelta(hours=23))
    assert reminders.sent == 2
    assert [m["Subject"].split(":")[0] for m in smtp.to("user2@example.si")] == ["Planned network maintenance",
                                                                                 "Reminder"]
    assert len(smtp.to("user1@example.si")) == 1
    cancelled = client.post(f"/api/v1/maintenance/windows/{window['id']}/cancel", headers=auth(tokens["noc_engineer"]))
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["sequence"] == 1
    assert deliver(rt).sent == 2
    assert len(smtp.to("user1@example.si")) == 1  # neither the reminder nor the cancellation
    [cancellation] = [m for m in smtp.to("user3@example.si") if m["Subject"].startswith("Preklic")]
    cal = calendar_of(cancellation)
    [event] = cal.walk("VEVENT")
    assert (cal["METHOD"], event["STATUS"], event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert str(event["ATTENDEE"]) == "mailto:user3@example.si"
    notices = client.get(f"/api/v1/maintenance/windows/{window['id']}/notices", headers=auth(tokens["agent"])).json()
    assert [(n["kind"], n["sent"], n["opted_out"]) for n in notices] == [
        ("announcement", 3, 1), ("reminder", 2, 2), ("cancellation", 2, 1)]


def test_an_opt_out_after_queueing_withdraws_the_queued_mail(
        client: TestClient, tokens: dict[str, str], rt: Runtime, smtp: MailServer) -> None:
    window = schedule(client, tokens)
    deliver(rt)
    path = optout_path(smtp.to("user3@example.si")[0])
    starts_at = datetime.fromisoformat(str(window["starts_at"]))
    client.put(f"/api/v1/maintenance/windows/{window['id']}", headers=auth(tokens["noc_engineer"]),
               json=planned(days=4)).raise_for_status()
    queue_notices(rt.db, NoticePolicy.from_settings(rt.settings))  # the update is queued for user3 ...
    assert client.post(path).status_code == 200  # ... who opts out before it is sent
    report = deliver(rt, now=starts_at - timedelta(days=2))
    assert (report.sent, report.withdrawn) == (2, 1)
    assert len(smtp.to("user3@example.si")) == 1
    [update] = [m for m in smtp.to("user1@example.si") if m["Subject"].startswith("Spremenjena")]
    [event] = calendar_of(update).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    withdrawn = [m for m in outbox(rt.db) if m.state == "withdrawn"]
    assert [m.last_error for m in withdrawn] == ["the subscriber opted out of maintenance notices"]


def test_lead_time_is_enforced_unless_emergency_with_a_reason(client: TestClient, tokens: dict[str, str]) -> None:
    engineer = auth(tokens["noc_engineer"])
    soon = client.post("/api/v1/maintenance/windows", json=planned(days=0.2), headers=engineer)
    assert soon.status_code == 422
    error = soon.json()["error"]
    assert error["field"] == "starts_at" and "48 h notice" in error["message"] and "emergency" in error["message"]
    no_reason = client.post("/api/v1/maintenance/windows", json=planned(days=0.2, emergency=True, reason=""),
                            headers=engineer)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    urgent = client.post("/api/v1/maintenance/windows", json=planned(days=0.2, emergency=True,
                                                                     reason="failing amplifier"), headers=engineer)
    assert urgent.status_code == 201 and urgent.json()["emergency"] is True
    window = schedule(client, tokens)
    moved = client.put(f"/api/v1/maintenance/windows/{window['id']}", json=planned(days=1), headers=engineer)
    assert moved.status_code == 422 and moved.json()["error"]["field"] == "starts_at"
    longer = client.put(f"/api/v1/maintenance/windows/{window['id']}", headers=engineer,
                        json={**planned(), "starts_at": window["starts_at"], "ends_at": window["starts_at"]})
    assert longer.status_code == 422 and longer.json()["error"]["field"] == "ends_at"


def test_moving_a_window_off_a_segment_cancels_it_there_and_updates_the_others(
        client: TestClient, tokens: dict[str, str], rt: Runtime, smtp: MailServer) -> None:
    window = schedule(client, tokens)
    deliver(rt)
    moved = client.put(f"/api/v1/maintenance/windows/{window['id']}", headers=auth(tokens["noc_engineer"]),
                       json={**planned(), "starts_at": window["starts_at"], "ends_at": window["ends_at"],
                             "segments": ["sg-2"]})
    assert moved.json()["sequence"] == 1
    deliver(rt)
    assert [m["Subject"].split(":")[0] for m in smtp.to("user1@example.si")] == [
        "Napoved vzdrževalnih del v omrežju", "Preklic vzdrževalnih del v omrežju"]
    assert [m["Subject"].split(":")[0] for m in smtp.to("user8@example.si")] == ["Changed network maintenance"]
    unchanged = client.put(f"/api/v1/maintenance/windows/{window['id']}", headers=auth(tokens["noc_engineer"]),
                           json={**planned(), "starts_at": window["starts_at"], "ends_at": window["ends_at"],
                                 "segments": ["sg-2"], "reason": "new internal note"})
    assert unchanged.json()["sequence"] == 1  # nothing subscribers see changed: no notice


def test_a_window_on_the_parent_reaches_every_segment_below(
        client: TestClient, tokens: dict[str, str], rt: Runtime, smtp: MailServer) -> None:
    schedule(client, tokens, segments=["agg-1"])
    deliver(rt)
    assert {r.rcpt[0] for r in smtp.received} == {*NOTIFIED, "user7@example.si", "user8@example.si"}


def test_outage_start_and_resolution(client: TestClient, tokens: dict[str, str], rt: Runtime,
                                     smtp: MailServer) -> None:
    engineer = auth(tokens["noc_engineer"])
    declared = client.post("/api/v1/maintenance/outages", headers=engineer,
                           json={"title": "Fibre cut", "segments": ["sg-1"], "impact": "degraded",
                                 "description_sl": "Poškodovan optični kabel."})
    assert declared.status_code == 201 and declared.json()["status"] == "ongoing"
    outage = declared.json()
    assert outage["ends_at"] is None
    deliver(rt)
    # user4 refused maintenance notices only: outages are "network problems", another category
    assert sorted(r.rcpt[0] for r in smtp.received) == sorted([*NOTIFIED, "user4@example.si"])
    [start] = smtp.to("user2@example.si")
    assert start["Subject"] == "Network outage" and "Poškodovan optični kabel." in text_of(start)
    assert not list(start.iter_attachments())  # no calendar event for an outage
    assert "network problems" in text_of(start)
    current = client.get("/api/v1/maintenance/windows?current=true&kind=outage", headers=engineer).json()
    assert [w["id"] for w in current["items"]] == [outage["id"]]
    resolved = client.post(f"/api/v1/maintenance/outages/{outage['id']}/resolve", headers=engineer)
    assert resolved.json()["status"] == "resolved" and resolved.json()["ends_at"] is not None
    assert client.post(f"/api/v1/maintenance/outages/{outage['id']}/resolve", headers=engineer).status_code == 200
    deliver(rt)
    assert [m["Subject"] for m in smtp.to("user2@example.si")] == ["Network outage", "Network outage resolved"]
    cancel = client.post(f"/api/v1/maintenance/windows/{outage['id']}/cancel", headers=engineer)
    assert cancel.status_code == 409 and cancel.json()["error"]["field"] == "id"


def test_permanent_refusals_are_recorded_per_subscriber_and_temporary_ones_retried(
        client: TestClient, tokens: dict[str, str], rt: Runtime, smtp: MailServer) -> None:
    smtp.refuse["user1@example.si"] = "550 5.1.1 mailbox unavailable"
    smtp.refuse["user2@example.si"] = "451 4.7.1 greylisted, try later"
    window = schedule(client, tokens)
    report = deliver(rt)
    assert (report.sent, report.dead, report.retried) == (1, 1, 1)
    reader = auth(tokens["agent"])
    [notice] = client.get(f"/api/v1/maintenance/windows/{window['id']}/notices", headers=reader).json()
    assert (notice["sent"], notice["failed"], notice["queued"]) == (1, 1, 1)
    failed = client.get(f"/api/v1/maintenance/windows/{window['id']}/notices/{notice['id']}/failed",
                        headers=reader).json()
    assert [(f["subscriber"], f["error"]) for f in failed["items"]] == [
        ("S-1", "recipient refused: 550 5.1.1 mailbox unavailable")]
    hidden = client.get(f"/api/v1/maintenance/windows/{window['id']}/notices/{notice['id']}/failed",
                        headers=auth(tokens["noc_engineer"])).json()
    assert [(f["subscriber"], f["error"]) for f in hidden["items"]] == [
        (None, "recipient refused: 550 5.1.1 mailbox unavailable")]
    del smtp.refuse["user2@example.si"]
    later = deliver(rt, now=utcnow() + timedelta(hours=1))
    assert later.sent == 1 and len(smtp.to("user2@example.si")) == 1
    assert client.get(f"/api/v1/maintenance/windows/{window['id']}/notices/{notice['id'] + 99}/failed",
                      headers=reader).status_code == 404


def test_a_forged_or_damaged_opt_out_link_changes_nothing(
        client: TestClient, tokens: dict[str, str], rt: Runtime, net: Database, smtp: MailServer) -> None:
    schedule(client, tokens)
    deliver(rt)
    path = optout_path(smtp.to("user1@example.si")[0])
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (forged, "S-1", "x" * 300):
        answer = client.post(f"/optout/{bad}")
        assert answer.status_code == 404 and "ni veljavna" in answer.text
    person = client.get(f"/api/v1/subscribers/{subscriber_id(net, 'S-1')}", headers=auth(tokens["admin"])).json()
    assert person["notification_opt_outs"] == []


def test_feeds_show_upcoming_works_without_personal_data(client: TestClient, tokens: dict[str, str]) -> None:
    window = schedule(client, tokens)
    gone = schedule(client, tokens, days=5)
    client.post(f"/api/v1/maintenance/windows/{gone['id']}/cancel", headers=auth(tokens["noc_engineer"]))
    feed = client.get("/api/v1/maintenance/feed.json")  # public: no token
    assert feed.status_code == 200
    [item] = feed.json()["items"]
    assert item["id"] == window["id"] and item["segments"] == ["sg-1"] and item["impact"] == "outage"
    assert not {"created_by", "reason"} & set(item)
    ics = client.get("/api/v1/maintenance/feed.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(ics.text).walk("VEVENT")
    assert str(event["UID"]) == f"maintenance-{window['id']}@kabel.example" and event["SEQUENCE"] == 0


@pytest.mark.parametrize("kind", ["reminder", "completion"])
def test_due_notices_are_planned_once(client: TestClient, tokens: dict[str, str], rt: Runtime, kind: str) -> None:
    window = schedule(client, tokens)
    starts_at = datetime.fromisoformat(str(window["starts_at"]))
    at = starts_at - timedelta(hours=23) if kind == "reminder" else starts_at + timedelta(hours=4)
    policy = NoticePolicy.from_settings(rt.settings)
    assert plan_due(rt.db, policy, now=starts_at - timedelta(hours=25)) == 0
    assert plan_due(rt.db, policy, now=at) == 1
    assert plan_due(rt.db, policy, now=at + timedelta(minutes=5)) == 0
