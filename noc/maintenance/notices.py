"""Turning notices into mails: reminders and completions when they fall due, the audience of each notice from
the topology, one outbox message per notice and subscriber.

Queueing goes in batches of subscribers (by id), each batch in its own transaction that also moves the notice's
cursor, so a notice to 100,000 subscribers neither holds the database for long nor is queued twice when a
worker dies half-way: the next run goes on from the cursor, and the outbox's unique keys absorb any overlap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, cast, literal, select
from sqlalchemy.orm import Session

from noc.core.db import Database, utcnow
from noc.inventory.models import Subscriber
from noc.inventory.service import contacts, subscribers_on, subtree
from noc.maintenance.models import MaintenanceWindow, Notice
from noc.maintenance.service import NoticePolicy, add_notice
from noc.outbox.service import enqueue_select, reached_keys

log = logging.getLogger("noc.maintenance")

BATCH = 5000
"""Subscribers considered per transaction."""
CHANNEL = "email"
STALE_WHEN_SUPERSEDED = frozenset({"announcement", "reminder", "update", "outage_start"})
"""Notices that lose their point once the window changed again, was cancelled or (outages) resolved."""
COMPLETION_WITHIN = timedelta(days=1)
"""Windows that ended longer ago than this get no completion notice (e.g. older than notices themselves)."""


def stale_reason(notice: Notice, window: MaintenanceWindow | None, now: datetime) -> str | None:
    """Why ``notice`` should no longer go out, or None when it should."""
    if window is None:
        return "the window was deleted"
    if notice.kind not in STALE_WHEN_SUPERSEDED:
        return None
    if window.cancelled_at is not None:
        return "the window was cancelled"
    if window.kind == "outage" and window.ends_at is not None:
        return "the outage was resolved"
    if window.sequence != notice.sequence:
        return "a later notice replaced it"
    if notice.kind == "reminder" and window.starts_at <= now:
        return "the works have started"
    return None


def plan_due(db: Database, policy: NoticePolicy, now: datetime | None = None) -> int:
    """Record the reminders and completion notices that have fallen due; returns how many."""
    now = now or utcnow()
    added = 0
    with db.session() as s:
        if policy.reminder > timedelta(0):
            soon = s.scalars(select(MaintenanceWindow).where(
                MaintenanceWindow.kind == "planned", MaintenanceWindow.cancelled_at.is_(None),
                MaintenanceWindow.starts_at > now, MaintenanceWindow.starts_at <= now + policy.reminder))
            for window in soon:
                added += _remind(s, window, policy, now)
        ended = s.scalars(select(MaintenanceWindow).where(
            MaintenanceWindow.kind == "planned", MaintenanceWindow.cancelled_at.is_(None),
            MaintenanceWindow.ends_at <= now, MaintenanceWindow.ends_at > now - COMPLETION_WITHIN))
        for window in ended:
            if _notice(s, window, "completion") is None:
                add_notice(s, window, "completion", "reached")
                added += 1
    return added


def _notice(s: Session, window: MaintenanceWindow, kind: str) -> Notice | None:
    return s.scalar(select(Notice).where(Notice.window_id == window.id, Notice.kind == kind,
                                         Notice.sequence == window.sequence))


def _remind(s: Session, window: MaintenanceWindow, policy: NoticePolicy, now: datetime) -> int:
    """A reminder, unless there is one for this version already or the last announcement is recent enough."""
    if _notice(s, window, "reminder") is not None:
        return 0
    told = s.scalar(select(Notice.created_at).where(
        Notice.window_id == window.id, Notice.kind.in_(("announcement", "update")),
        Notice.sequence == window.sequence))
    if told is not None and told >= window.starts_at - policy.reminder:
        return 0
    add_notice(s, window, "reminder", "affected")
    return 1


@dataclass
class QueueReport:
    """What one queueing run did."""

    notices: int = 0
    queued: int = 0
    done: list[int] = field(default_factory=list)


def queue_notices(db: Database, policy: NoticePolicy, *, batch: int = BATCH, max_run_s: float | None = None,
                  now: datetime | None = None) -> QueueReport:
    """Queue the mails of every notice not fully queued yet, oldest notice first; stops after ``max_run_s``
    (the next run goes on where this one stopped)."""
    stop_at = None if max_run_s is None else time.monotonic() + max_run_s
    report = QueueReport()
    with db.read_session() as s:
        pending = list(s.scalars(select(Notice.id).where(Notice.queued_at.is_(None)).order_by(Notice.id)))
    for notice_id in pending:
        report.notices += 1
        while True:
            with db.session() as s:
                finished, queued = _queue_batch(s, notice_id, policy, batch, now or utcnow())
            report.queued += queued
            if finished:
                report.done.append(notice_id)
                break
            if stop_at is not None and time.monotonic() >= stop_at:
                return report
    return report


def _queue_batch(s: Session, notice_id: int, policy: NoticePolicy, batch: int, now: datetime) -> tuple[bool, int]:
    """Queue the next batch of one notice's mails; returns (whether the notice is fully queued, mails queued)."""
    notice = s.get(Notice, notice_id, with_for_update=True)  # one queuer per notice at a time
    if notice is None or notice.queued_at is not None:
        return True, 0
    window = s.get(MaintenanceWindow, notice.window_id)
    reason = stale_reason(notice, window, now)
    if reason is not None or window is None:
        notice.queued_at, notice.note = now, f"queueing stopped: {reason}"
        log.info("notice %d (%s of window %d) not queued further: %s", notice.id, notice.kind, notice.window_id,
                 reason)
        return True, 0
    rows, last, query = _audience(s, notice, window, policy, now, batch)
    if last is None:
        notice.queued_at = now
        log.info("notice %d (%s of window %d) queued: %d mails for %d subscribers (%d opted out, %d without "
                 "e-mail)", notice.id, notice.kind, window.id, notice.queued, notice.audience_size,
                 notice.opted_out, notice.no_email)
        return True, 0
    found = query.where(Subscriber.id > notice.cursor, Subscriber.id <= last).subquery()
    mails = (select(found.c.email, literal(f'{{"notice":{notice.id},"subscriber":') + cast(found.c.id, String) + "}",
                    literal(f"{notice.topic}:") + cast(found.c.id, String))
             .where(found.c.email != "", ~found.c.opted_out))
    queued = enqueue_select(s, CHANNEL, mails, topic=notice.topic)
    notice.cursor = last
    notice.audience_size += len(rows)
    notice.opted_out += sum(1 for r in rows if r.opted_out)
    notice.no_email += sum(1 for r in rows if not r.opted_out and not r.email)
    notice.queued += queued
    return False, queued


def _audience(s: Session, notice: Notice, window: MaintenanceWindow, policy: NoticePolicy, now: datetime,
              limit: int) -> tuple[list[Any], int | None, Select[Any]]:
    """The next ``limit`` subscribers of the notice's audience after its cursor (rows with id, email, opted_out,
    ...), the last subscriber id they cover (None: the audience is exhausted), and the query that finds them."""
    if notice.audience == "affected":
        query = subscribers_on(affected_segments(s, window), policy.today(now), notice.category)
        rows = list(s.execute(query.where(Subscriber.id > notice.cursor).order_by(Subscriber.id).limit(limit)))
        return rows, rows[-1].id if rows else None, query
    ids = reached_subscribers(s, window, before=notice)
    if notice.audience == "dropped":
        ids -= {row.id for row in s.execute(subscribers_on(affected_segments(s, window), policy.today(now),
                                                           notice.category))}
    chosen = sorted(i for i in ids if i > notice.cursor)[:limit]
    query = contacts(chosen, notice.category)
    return list(s.execute(query.order_by(Subscriber.id))), chosen[-1] if chosen else None, query


def affected_segments(s: Session, window: MaintenanceWindow) -> set[int]:
    """The window's segments and every segment below them."""
    return subtree(s, [segment.id for segment in window.segments])


def reached_subscribers(s: Session, window: MaintenanceWindow, before: Notice) -> set[int]:
    """Subscribers an earlier notice of ``window`` was sent to, or may have been."""
    topics = [n.topic for n in s.scalars(select(Notice).where(Notice.window_id == window.id, Notice.id < before.id))]
    return {int(key.rpartition(":")[2]) for key in reached_keys(s, topics)} if topics else set()


def notices_of(s: Session, window_id: int) -> Iterable[Notice]:
    """A window's notices, oldest first."""
    return s.scalars(select(Notice).where(Notice.window_id == window_id).order_by(Notice.id))
