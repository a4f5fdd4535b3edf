"""Queueing messages in the caller's transaction and dispatching them with retries (at-least-once)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from noc.core.db import Database, UTCDateTime, utcnow
from noc.outbox.models import OutboxMessage, safe_destination

log = logging.getLogger("noc.outbox")

MAX_ERROR_CHARS = 500


class SendError(Exception):
    """A failed delivery; ``retryable`` says whether trying again later may succeed.

    ``message`` must not contain secrets (it is stored and logged); ``retry_after`` is the receiver's
    requested wait in seconds, if it gave one.
    """

    def __init__(self, retryable: bool, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.message = message
        self.retry_after = retry_after


class Withdrawn(Exception):
    """Raised by a sender instead of sending: the message is no longer wanted (its recipient opted out, a newer
    message supersedes it); it becomes ``withdrawn`` with ``reason`` as its ``last_error``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Outcome = tuple[OutboxMessage, dict[str, Any]]
"""A message just tried and the column values recording how it went."""

Sender = Callable[[OutboxMessage], None]
"""Delivers one message; returns on success, raises :class:`SendError` on failure or :class:`Withdrawn`."""


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"payload value of type {type(value).__name__} is not JSON serializable")


def _body(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_json_default)


def enqueue(session: Session, channel: str, destination: str, payload: dict[str, Any],
            idempotency_key: str, *, topic: str | None = None) -> OutboxMessage:
    """Queue a message in the caller's transaction; a key already queued returns the existing row unchanged."""
    if not channel or not destination or not idempotency_key:
        raise ValueError("channel, destination and idempotency_key must not be empty")
    body = _body(payload)
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key))
    if existing is None:
        message = OutboxMessage(channel=channel, destination=destination, payload=body, topic=topic,
                                idempotency_key=idempotency_key, state="pending", attempts=0, next_attempt_at=utcnow())
        try:
            with session.begin_nested():  # a concurrent enqueue of the same key must not abort the caller
                session.add(message)
        except IntegrityError:
            existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key))
            if existing is None:
                raise
        else:
            log.debug("outbox %d queued: %s to %s", message.id, channel, safe_destination(destination))
            return message
    if (existing.channel, existing.destination, existing.payload) != (channel, destination, body):
        log.warning("outbox key %r already queued as message %d with other content; kept the first",
                    idempotency_key, existing.id)
    return existing


def enqueue_select(session: Session, channel: str, rows: Select[Any], *, topic: str | None = None) -> int:
    """Queue one message per row of ``rows`` in the caller's transaction with one ``INSERT ... SELECT``: the
    query's three columns are the destination, the payload as JSON text (compact, keys sorted, as
    :func:`enqueue` writes it) and the idempotency key. Keys already queued are skipped (also when another
    transaction queues them at the same time); returns how many messages are new.

    Made for fan-outs to many recipients: the rows never travel through Python."""
    if not channel:
        raise ValueError("channel must not be empty")
    now = literal(utcnow(), UTCDateTime())
    found = rows.subquery()
    destination, payload, key = found.c
    source = select(destination, payload, key, literal(channel), literal(topic, String), literal("pending"),
                    literal(0), now, now).where(true())  # WHERE: SQLite's INSERT ... SELECT ... ON CONFLICT needs one
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(OutboxMessage.__table__).from_select(
        ["destination", "payload", "idempotency_key", "channel", "topic", "state", "attempts", "next_attempt_at",
         "created_at"], source).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return int(session.execute(statement.execution_options(preserve_rowcount=True)).rowcount)  # type: ignore[attr-defined]


def counts_by_topic(session: Session, topics: Collection[str]) -> dict[str, dict[str, int]]:
    """How many messages of each topic are in each state (states without messages are left out)."""
    counts: dict[str, dict[str, int]] = {topic: {} for topic in topics}
    query = (select(OutboxMessage.topic, OutboxMessage.state, func.count())
             .where(OutboxMessage.topic.in_(topics)).group_by(OutboxMessage.topic, OutboxMessage.state))
    for topic, state, count in session.execute(query):
        counts[str(topic)][state] = int(count)
    return counts


def messages_of(session: Session, topic: str, state: str | None = None, *, limit: int = 100,
                offset: int = 0) -> tuple[list[OutboxMessage], int]:
    """One page of the messages of ``topic`` (in ``state``, if given) in queueing order, and their total."""
    query = select(OutboxMessage).where(OutboxMessage.topic == topic)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(OutboxMessage.id).limit(limit).offset(offset))
    return list(rows), int(total)


def reached_keys(session: Session, topics: Collection[str]) -> list[str]:
    """The keys of the messages of ``topics`` that were sent, or may have been (tried, outcome not yet known)."""
    query = select(OutboxMessage.idempotency_key).where(
        OutboxMessage.topic.in_(topics),
        or_(OutboxMessage.state == "sent", and_(OutboxMessage.state == "pending", OutboxMessage.attempts > 0)))
    return list(session.scalars(query))


def requeue(session: Session, message_id: int) -> bool:
    """Give a dead message a fresh set of attempts, due now; False when there is no such dead message."""
    return session.scalar(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == "dead")
        .values(state="pending", attempts=0, next_attempt_at=utcnow())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ) is not None


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    withdrawn: int = 0


class Dispatcher:
    """Sends due messages through the sender of their channel; several dispatchers may run at once.

    A message is claimed before it is sent by moving its ``next_attempt_at`` forward by ``lease_s``,
    conditional on the value the dispatcher read: of two dispatchers only one claim succeeds. A dispatcher
    that dies mid-send leaves the claim to expire, after which the message is due again (at-least-once),
    so ``lease_s`` must exceed the longest send. Messages of channels without a sender here are left alone.

    Each message is claimed just before it is sent, and its outcome is recorded in the transaction that claims the
    next one (or at the end of the run), before anything else is sent: a dispatcher killed at any point leaves at
    most one message sent but not recorded, which is sent again when its claim expires. A run stops claiming after
    ``max_run_s`` seconds, if given.
    """

    def __init__(self, db: Database, senders: Mapping[str, Sender], *, max_attempts: int = 8,
                 base_backoff_s: float = 5.0, max_backoff_s: float = 3600.0, batch: int = 100,
                 lease_s: float = 300.0, max_run_s: float | None = None) -> None:
        if (max_attempts < 1 or batch < 1 or base_backoff_s <= 0 or max_backoff_s < base_backoff_s or lease_s <= 0
                or (max_run_s is not None and max_run_s <= 0)):
            raise ValueError("invalid dispatcher limits")
        self.db = db
        self.senders = dict(senders)
        self.max_attempts = max_attempts
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.batch = batch
        self.lease = timedelta(seconds=lease_s)
        self.max_run_s = max_run_s
        self._random = random.Random()

    def run_once(self, now: datetime | None = None) -> DispatchReport:
        """Send every message due at ``now`` (default: the current time), up to ``batch`` of them."""
        clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
        report = DispatchReport()
        stop_at = None if self.max_run_s is None else time.monotonic() + self.max_run_s
        with self.db.session() as s:
            due = s.execute(
                select(OutboxMessage.id, OutboxMessage.next_attempt_at)
                .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= clock(),
                       OutboxMessage.channel.in_(self.senders))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.batch)
            ).all()
        outcome: Outcome | None = None
        try:
            for message_id, seen_at in due:
                if stop_at is not None and time.monotonic() >= stop_at:
                    break
                message = self._claim(message_id, seen_at, clock(), outcome)
                outcome = None
                if message is not None:
                    outcome = self._deliver(message, clock, report)
        finally:
            if outcome is not None:
                with self.db.session() as s:
                    self._record(s, *outcome)
        if report != DispatchReport():
            log.info("outbox %s: %d sent, %d to retry, %d dead, %d withdrawn", "/".join(self.senders), report.sent,
                     report.retried, report.dead, report.withdrawn)
        return report

    def _claim(self, message_id: int, seen_at: datetime, now: datetime,
               previous: Outcome | None) -> OutboxMessage | None:
        """Record the previous message's outcome, then claim this one (one transaction)."""
        with self.db.session() as s:
            if previous is not None:
                self._record(s, *previous)
            return s.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending",
                       OutboxMessage.next_attempt_at == seen_at)
                .values(next_attempt_at=now + self.lease, attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage)
            ).one_or_none()

    def _deliver(self, message: OutboxMessage, clock: Callable[[], datetime], report: DispatchReport) -> Outcome:
        """Send ``message``; returns how it went, to be recorded."""
        where = safe_destination(message.destination)
        try:
            self.senders[message.channel](message)
        except Withdrawn as exc:
            report.withdrawn += 1
            log.debug("outbox %d withdrawn: %s to %s: %s", message.id, message.channel, where, exc.reason)
            return message, {"state": "withdrawn", "last_error": exc.reason[:MAX_ERROR_CHARS]}
        except SendError as exc:
            error = exc
        except Exception as exc:  # a sender bug must not stop the other messages
            log.error("outbox %d: %s sender failed unexpectedly", message.id, message.channel, exc_info=True)
            error = SendError(True, f"unexpected {type(exc).__name__}")
        else:
            report.sent += 1
            log.debug("outbox %d sent: %s to %s (attempt %d)", message.id, message.channel, where, message.attempts)
            return message, {"state": "sent", "sent_at": clock(), "last_error": None}
        text = error.message.replace(message.destination, where)[:MAX_ERROR_CHARS]
        if not error.retryable or message.attempts >= self.max_attempts:
            report.dead += 1
            log.error("outbox %d dead after %d attempt(s): %s to %s: %s", message.id, message.attempts,
                      message.channel, where, text)
            return message, {"state": "dead", "last_error": text}
        delay = self.backoff_s(message.attempts, error.retry_after)
        report.retried += 1
        log.warning("outbox %d attempt %d failed: %s to %s: %s; next try in %.0f s", message.id,
                    message.attempts, message.channel, where, text, delay)
        return message, {"next_attempt_at": clock() + timedelta(seconds=delay), "last_error": text}

    def backoff_s(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after ``attempts`` failures: doubling from the base, jittered to 50–100 %, capped."""
        delay = min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempts - 1))
        delay *= 0.5 + self._random.random() / 2
        return float(min(self.max_backoff_s, max(delay, retry_after or 0.0)))

    @staticmethod
    def _record(session: Session, message: OutboxMessage, values: dict[str, Any]) -> None:
        # A failure is recorded only while our claim holds (if it expired and another dispatcher took the
        # message over, that one's outcome counts); a success always: the receiver has the message.
        if values.get("state") == "sent":
            guard = OutboxMessage.state != "sent"
        else:
            guard = and_(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at == message.next_attempt_at)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, guard)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
