"""The e-mail channel and the outbox's bulk queueing, topics and withdrawn messages, against a real SMTP server
(aiosmtpd on loopback) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from noc.core.db import Database
from noc.outbox.email import SmtpConfig, SmtpSender
from noc.outbox.models import OutboxMessage
from noc.outbox.service import (
    Dispatcher,
    DispatchReport,
    SendError,
    Withdrawn,
    counts_by_topic,
    enqueue,
    enqueue_select,
    messages_of,
    reached_keys,
)
from tests.conftest import free_port
from tests.support.smtp import MailServer, mail_server
from tests.support.threads import together

PASSWORD = "smtp-pa55-Zq8p3LmN"


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


def compose(message: OutboxMessage) -> EmailMessage:
    """A plain mail whose subject is the payload's ``subject``; ``withdraw`` in the payload withdraws it."""
    if message.data.get("withdraw"):
        raise Withdrawn("not wanted any more")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noc@kabel.example", message.destination, message.data["subject"]
    mail.set_content("body")
    return mail


def rows(count: int, topic: str = "t1", start: int = 0, **payload: object) -> sa.Select[Any]:
    """A query of ``count`` (destination, payload, key) rows, as a fan-out would select them."""
    found = sa.union_all(*(
        sa.select(sa.literal(f"user{n}@example.si").label("destination"),
                  sa.literal(json.dumps({"subject": f"n{n}", **payload}, sort_keys=True, separators=(",", ":")))
                  .label("payload"), sa.literal(f"{topic}:{n}").label("key"))
        for n in range(start, start + count))).subquery()
    return sa.select(found.c.destination, found.c.payload, found.c.key)


def queue(db: Database, count: int, topic: str = "t1", start: int = 0, **payload: object) -> int:
    with db.session() as s:
        return enqueue_select(s, "email", rows(count, topic, start, **payload), topic=topic)


def sender(smtp: MailServer, **kwargs: float) -> SmtpSender:
    return SmtpSender(SmtpConfig(host=smtp.host, port=smtp.port, timeout_s=5, mail_from="noc@kabel.example"),
                      compose, **kwargs)


def test_enqueue_select_skips_keys_already_queued_and_counts_per_topic(db: Database) -> None:
    assert queue(db, 3) == 3
    assert queue(db, 5) == 2  # 0-2 are there already
    with db.session() as s:
        single = enqueue(s, "email", "x@example.si", {"subject": "x"}, "other:1", topic="t2")
        assert counts_by_topic(s, ["t1", "t2", "t3"]) == {"t1": {"pending": 5}, "t2": {"pending": 1}, "t3": {}}
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 6
        bulk = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "t1:4"))
        assert bulk is not None and single.payload == '{"subject":"x"}'
        assert (bulk.channel, bulk.state, bulk.attempts, bulk.topic, bulk.data) == ("email", "pending", 0, "t1",
                                                                                   {"subject": "n4"})
        assert bulk.next_attempt_at == bulk.created_at and bulk.created_at.tzinfo is not None
    with pytest.raises(ValueError, match="must not be empty"), db.session() as s:
        enqueue_select(s, "", rows(1))


def test_concurrent_bulk_enqueues_keep_one_row_per_key(db: Database) -> None:
    starts = (0, 250, 100)
    added = together(lambda i: queue(db, 500, start=starts[i]), len(starts))
    assert sum(added) == 750
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 750


def test_mails_are_sent_withdrawn_and_paced(db: Database, smtp: MailServer) -> None:
    queue(db, 10)
    queue(db, 2, topic="t2", withdraw=True)
    dispatcher = Dispatcher(db, {"email": sender(smtp, rate_per_s=20)})
    started = time.monotonic()
    report = dispatcher.run_once()
    took = time.monotonic() - started
    assert report == DispatchReport(sent=10, withdrawn=2)
    assert took >= 9 / 20  # 10 mails at 20/s: the first goes at once, the others a slot apart
    assert sorted(r.rcpt[0] for r in smtp.received) == sorted(f"user{n}@example.si" for n in range(10))
    with db.session() as s:
        assert counts_by_topic(s, ["t1", "t2"]) == {"t1": {"sent": 10}, "t2": {"withdrawn": 2}}
        withdrawn, total = messages_of(s, "t2", "withdrawn")
        assert total == 2 and {m.last_error for m in withdrawn} == {"not wanted any more"}
        assert sorted(reached_keys(s, ["t1", "t2"])) == sorted(f"t1:{n}" for n in range(10))


def test_refusals_are_final_with_5xx_and_retried_with_4xx(db: Database, smtp: MailServer) -> None:
    smtp.refuse["user0@example.si"] = "550 5.1.1 no such user"
    smtp.refuse["user1@example.si"] = "452 4.2.2 mailbox full"
    queue(db, 3)
    assert Dispatcher(db, {"email": sender(smtp)}).run_once() == DispatchReport(sent=1, retried=1, dead=1)
    with db.session() as s:
        states = {m.destination: (m.state, m.last_error) for m in s.scalars(select(OutboxMessage))}
    assert states == {"user0@example.si": ("dead", "recipient refused: 550 5.1.1 no such user"),
                      "user1@example.si": ("pending", "recipient refused: 452 4.2.2 mailbox full"),
                      "user2@example.si": ("sent", None)}


def test_an_unreachable_server_is_retryable_and_no_password_leaks(smtp: MailServer) -> None:
    config = SmtpConfig(host="127.0.0.1", port=free_port(), user="noc", password=PASSWORD, timeout_s=2)
    down = SmtpSender(config, compose)
    message = OutboxMessage(id=1, channel="email", destination="a@example.si", payload='{"subject": "s"}',
                            idempotency_key="k", attempts=1)
    with pytest.raises(SendError) as caught:
        down(message)
    assert caught.value.retryable and "ConnectionRefusedError" in caught.value.message
    assert PASSWORD not in repr(down) and PASSWORD not in caught.value.message


def test_a_connection_the_server_dropped_is_replaced_before_use(db: Database,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("noc.outbox.email.IDLE_CHECK_S", 0.0)  # check the kept connection before every mail
    with mail_server() as first:
        port = first.port
        queue(db, 1)
        mails = sender(first)
        assert Dispatcher(db, {"email": mails}).run_once() == DispatchReport(sent=1)
    with mail_server(port) as second:  # a restarted server: the kept connection is dead
        queue(db, 1, start=1)
        assert Dispatcher(db, {"email": mails}).run_once() == DispatchReport(sent=1)  # no failed attempt
        mails.close()
    assert [r.rcpt for r in second.received] == [("user1@example.si",)]
