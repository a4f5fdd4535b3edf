"""The outbox against a real HTTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from noc.core.db import Database, utcnow
from noc.outbox.models import OutboxMessage
from noc.outbox.service import Dispatcher, DispatchReport, SendError, enqueue, requeue
from noc.outbox.webhook import WebhookSender
from tests.conftest import free_port
from tests.outbox.conftest import SECRET, Hook

EVENT = {"event": "segment.over_threshold", "segment": "sg-1", "utilization": 0.74}


def queue(db: Database, destination: str, key: str = "evt-1", payload: dict[str, object] | None = None) -> int:
    with db.session() as s:
        return enqueue(s, "webhook", destination, payload or EVENT, key).id


def load(db: Database, message_id: int) -> OutboxMessage:
    with db.session() as s:
        message = s.get(OutboxMessage, message_id)
        assert message is not None
        return message


def dispatcher(db: Database, sender: WebhookSender, **limits: float) -> Dispatcher:
    return Dispatcher(db, {"webhook": sender}, **limits)  # type: ignore[arg-type]


def test_enqueue_twice_with_one_key_is_a_no_op(outbox_db: Database, hook: Hook) -> None:
    first = queue(outbox_db, hook.url)
    assert queue(outbox_db, hook.url, payload={"event": "other"}) == first
    with outbox_db.session() as s:
        again = enqueue(s, "webhook", hook.url, EVENT, "evt-1")
        same_transaction = enqueue(s, "webhook", hook.url, EVENT, "evt-2")
        assert enqueue(s, "webhook", hook.url, EVENT, "evt-2") is same_transaction
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert again.id == first and json.loads(again.payload) == EVENT
    assert (again.state, again.attempts) == ("pending", 0)


def test_concurrent_enqueues_of_one_key_keep_one_row(outbox_db: Database, hook: Hook) -> None:
    ids: list[int] = []

    def second() -> None:
        with outbox_db.session() as s:  # blocks on the first transaction's row, then finds it
            ids.append(enqueue(s, "webhook", hook.url, EVENT, "evt-1").id)
            s.execute(select(1))  # the caller's transaction is still usable

    with outbox_db.sessions() as s, s.begin():
        first = enqueue(s, "webhook", hook.url, EVENT, "evt-1").id
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
    thread.join(timeout=30)
    assert ids == [first]
    with outbox_db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_enqueue_rolls_back_with_the_callers_transaction(outbox_db: Database, hook: Hook) -> None:
    with pytest.raises(RuntimeError), outbox_db.session() as s:
        enqueue(s, "webhook", hook.url, EVENT, "evt-1")
        raise RuntimeError("the change that caused the event failed")
    with outbox_db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_delivery_with_headers_and_a_verifiable_signature(outbox_db: Database, hook: Hook,
                                                          sender: WebhookSender) -> None:
    message_id = queue(outbox_db, hook.url)
    assert dispatcher(outbox_db, sender).run_once() == DispatchReport(sent=1)
    [request] = hook.requests
    assert request.path == "/hook" and json.loads(request.body) == EVENT
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "evt-1"
    assert request.headers["x-noc-event"] == "segment.over_threshold"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-noc-signature"], expected)
    message = load(outbox_db, message_id)
    assert (message.state, message.attempts, message.last_error) == ("sent", 1, None)
    assert message.sent_at is not None
    assert dispatcher(outbox_db, sender).run_once() == DispatchReport()


def test_unsigned_without_a_secret(outbox_db: Database, hook: Hook) -> None:
    queue(outbox_db, hook.url)
    unsigned = WebhookSender(None)
    try:
        assert dispatcher(outbox_db, unsigned).run_once() == DispatchReport(sent=1)
    finally:
        unsigned.close()
    assert "x-noc-signature" not in hook.requests[0].headers


def test_retries_with_growing_backoff_until_success(outbox_db: Database, hook: Hook, sender: WebhookSender) -> None:
    hook.fail = 3
    message_id = queue(outbox_db, hook.url)
    outbox = dispatcher(outbox_db, sender, base_backoff_s=10.0)
    now = utcnow()
    for attempt in (1, 2, 3):
        assert outbox.run_once(now) == DispatchReport(retried=1)
        assert outbox.run_once(now) == DispatchReport()  # not due before its backoff has passed
        message = load(outbox_db, message_id)
        nominal = 10.0 * 2 ** (attempt - 1)
        assert nominal / 2 <= (message.next_attempt_at - now).total_seconds() <= nominal
        assert (message.state, message.attempts) == ("pending", attempt)
        assert message.last_error == "HTTP 503 Service Unavailable"
        now = message.next_attempt_at
    assert outbox.run_once(now) == DispatchReport(sent=1)
    assert [r.headers["idempotency-key"] for r in hook.requests] == ["evt-1"] * 4
    assert load(outbox_db, message_id).state == "sent"


def test_retry_after_is_honoured(outbox_db: Database, hook: Hook, sender: WebhookSender) -> None:
    hook.status, hook.response_headers = 429, {"Retry-After": "120"}
    message_id = queue(outbox_db, hook.url)
    now = utcnow()
    assert dispatcher(outbox_db, sender).run_once(now) == DispatchReport(retried=1)
    assert load(outbox_db, message_id).next_attempt_at - now == timedelta(seconds=120)


@pytest.mark.parametrize(("status", "error"), [(400, "HTTP 400 Bad Request"),
                                               (302, "HTTP 302 Found (redirects are not followed)")])
def test_a_final_answer_makes_a_dead_letter_at_once(outbox_db: Database, hook: Hook, sender: WebhookSender,
                                                    status: int, error: str) -> None:
    hook.status = status
    message_id = queue(outbox_db, hook.url)
    outbox = dispatcher(outbox_db, sender)
    assert outbox.run_once() == DispatchReport(dead=1)
    assert outbox.run_once(utcnow() + timedelta(days=1)) == DispatchReport()
    assert len(hook.requests) == 1
    message = load(outbox_db, message_id)
    assert (message.state, message.attempts, message.last_error) == ("dead", 1, error)


def test_max_attempts_then_dead_and_requeue(outbox_db: Database, hook: Hook, sender: WebhookSender) -> None:
    hook.fail = 10**6
    message_id = queue(outbox_db, hook.url)
    outbox = dispatcher(outbox_db, sender, max_attempts=3)
    now = utcnow()
    reports = []
    for _ in range(4):
        reports.append(outbox.run_once(now))
        now += timedelta(hours=1)
    assert reports == [DispatchReport(retried=1), DispatchReport(retried=1), DispatchReport(dead=1), DispatchReport()]
    assert len(hook.requests) == 3 and load(outbox_db, message_id).state == "dead"
    hook.fail = 0
    with outbox_db.session() as s:
        assert requeue(s, message_id) and not requeue(s, message_id)
    assert outbox.run_once() == DispatchReport(sent=1)
    assert load(outbox_db, message_id).attempts == 1


def test_unreachable_receiver_is_retried(outbox_db: Database, sender: WebhookSender) -> None:
    message_id = queue(outbox_db, f"http://127.0.0.1:{free_port()}/hook")
    assert dispatcher(outbox_db, sender).run_once() == DispatchReport(retried=1)
    assert (load(outbox_db, message_id).last_error or "").startswith("connection failed (ConnectError")


def test_channels_without_a_sender_are_left_alone(outbox_db: Database, hook: Hook, sender: WebhookSender) -> None:
    with outbox_db.session() as s:
        mail_id = enqueue(s, "email", "janez.novak@example.si", {"subject": "Vzdrževalna dela"}, "mail-1").id
    assert dispatcher(outbox_db, sender).run_once() == DispatchReport()
    assert (load(outbox_db, mail_id).state, load(outbox_db, mail_id).attempts) == ("pending", 0)


def test_a_sender_bug_is_a_retry_not_a_crash(outbox_db: Database, hook: Hook) -> None:
    def broken(message: OutboxMessage) -> None:
        raise KeyError("oops")

    message_id = queue(outbox_db, hook.url)
    assert Dispatcher(outbox_db, {"webhook": broken}).run_once() == DispatchReport(retried=1)
    assert load(outbox_db, message_id).last_error == "unexpected KeyError"


def test_two_dispatchers_at_once_never_send_a_message_twice(outbox_db: Database, hook: Hook,
                                                            sender: WebhookSender) -> None:
    count = 40
    hook.delay_s = 0.005
    for n in range(count):
        queue(outbox_db, hook.url, key=f"evt-{n}", payload={"event": "test", "n": n})
    start = threading.Barrier(2)
    reports: list[DispatchReport] = []

    def work() -> None:
        outbox = dispatcher(outbox_db, sender, batch=count)
        start.wait()
        while (report := outbox.run_once()) != DispatchReport():
            reports.append(report)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    keys = [r.headers["idempotency-key"] for r in hook.requests]
    assert sorted(keys) == sorted(f"evt-{n}" for n in range(count))
    assert sum(r.sent for r in reports) == count
    with outbox_db.session() as s:
        assert set(s.scalars(select(OutboxMessage.state))) == {"sent"}
        assert set(s.scalars(select(OutboxMessage.attempts))) == {1}


def test_the_secret_never_leaks(outbox_db: Database, hook: Hook, sender: WebhookSender,
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hook.fail = 1
    ids = [queue(outbox_db, hook.url, key="retried"),
           queue(outbox_db, f"http://127.0.0.1:{free_port()}/hook", key="unreachable")]
    outbox = dispatcher(outbox_db, sender)
    outbox.run_once()
    hook.status = 400
    outbox.run_once(utcnow() + timedelta(hours=1))
    messages = [load(outbox_db, i) for i in ids]
    assert [m.state for m in messages] == ["dead", "pending"]
    assert all(m.last_error for m in messages)
    texts = [caplog.text, repr(sender), *map(repr, messages), *(m.last_error for m in messages)]
    assert not [text for text in texts if text and SECRET in text]
    assert "dead after 2 attempt(s)" in caplog.text


def test_destinations_are_redacted_in_logs(outbox_db: Database, sender: WebhookSender,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="noc.outbox")
    url = f"http://127.0.0.1:{free_port()}/services/T0/B0/tok3n-in-path"
    message_id = queue(outbox_db, url)
    dispatcher(outbox_db, sender).run_once()
    noc_logs = "\n".join(r.getMessage() for r in caplog.records if r.name == "noc.outbox")
    assert "tok3n" not in noc_logs and "tok3n" not in repr(load(outbox_db, message_id))
    assert "http://127.0.0.1:" in noc_logs


def test_send_error_carries_only_its_message() -> None:
    error = SendError(True, "HTTP 503 Service Unavailable", retry_after=30)
    assert (str(error), error.retryable, error.retry_after) == ("HTTP 503 Service Unavailable", True, 30)
