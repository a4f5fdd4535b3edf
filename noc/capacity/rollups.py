"""Turning raw segment utilization points into period rollups (mean, max, p95) kept in the database."""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.capacity.models import SegmentLatest, SegmentRollup
from noc.core.db import epoch_seconds
from noc.polling.events import SegmentPoint

DEFAULT_PERIOD_S = 300


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class RollupBuffer:
    """Collects points and hands out each period's rollup once the period is over."""

    period_s: int = DEFAULT_PERIOD_S
    _points: dict[tuple[int, str, int], list[SegmentPoint]] = field(default_factory=lambda: defaultdict(list))

    def add(self, point: SegmentPoint) -> None:
        """Keep a point for the period it falls in."""
        start = point.at - point.at % self.period_s
        self._points[(point.segment_id, point.direction, start)].append(point)

    def pending(self) -> int:
        """How many periods are still open or not yet flushed."""
        return len(self._points)

    def close(self, now: int) -> list[SegmentRollup]:
        """Rollups of every period that ended at or before ``now``; they leave the buffer."""
        done = [key for key in self._points if key[2] + self.period_s <= now]
        return [self._rollup(key, self._points.pop(key)) for key in sorted(done, key=lambda k: k[2])]

    def _rollup(self, key: tuple[int, str, int], points: list[SegmentPoint]) -> SegmentRollup:
        segment_id, direction, start = key
        shares = [p.utilization for p in points]
        return SegmentRollup(
            segment_id=segment_id, direction=direction, start=datetime.fromtimestamp(start, UTC),
            seconds=self.period_s, mean=sum(shares) / len(shares), max=max(shares), p95=percentile(shares, 0.95),
            mean_bps=sum(p.bps for p in points) / len(points), capacity_bps=points[-1].capacity_bps,
            points=len(points),
        )


def store(session: Session, rollups: list[SegmentRollup]) -> int:
    """Insert rollups, skipping any period already stored (a restarted worker never doubles one)."""
    stored = 0
    for rollup in rollups:
        exists = session.scalar(select(SegmentRollup.id).where(
            SegmentRollup.segment_id == rollup.segment_id, SegmentRollup.direction == rollup.direction,
            SegmentRollup.start == rollup.start))
        if exists is None:
            session.add(rollup)
            stored += 1
    session.flush()
    return stored


class Rollup(NamedTuple):
    """One stored rollup as a plain row (cheap for long spans: no ORM object per period)."""

    direction: str
    start: datetime
    seconds: int
    mean: float
    max: float
    p95: float
    mean_bps: float
    capacity_bps: float
    points: int


ROLLUP_COLUMNS = [getattr(SegmentRollup, name) for name in Rollup._fields]


def history(session: Session, segment_id: int, since: datetime, direction: str | None = None,
            until: datetime | None = None) -> list[Rollup]:
    """A segment's rollups starting at or after ``since`` (and at or before ``until``), oldest first."""
    query = select(*ROLLUP_COLUMNS).where(SegmentRollup.segment_id == segment_id, SegmentRollup.start >= since)
    if direction is not None:
        query = query.where(SegmentRollup.direction == direction)
    if until is not None:
        query = query.where(SegmentRollup.start <= until)
    rows = session.connection().execute(query.order_by(SegmentRollup.start, SegmentRollup.direction))
    return [Rollup._make(row) for row in rows]


def means_between(session: Session, segment_id: int, direction: str, since: datetime,
                  until: datetime) -> list[tuple[float, int, float]]:
    """(start, seconds, mean) of a segment direction's rollups starting within ``[since, until]``, oldest first;
    ``start`` in seconds since 1970 (plain rows, no datetime each: cheap for long spans)."""
    query = select(epoch_seconds(SegmentRollup.start), SegmentRollup.seconds, SegmentRollup.mean).where(
        SegmentRollup.segment_id == segment_id, SegmentRollup.direction == direction, SegmentRollup.start >= since,
        SegmentRollup.start <= until).order_by(SegmentRollup.start)
    return [(start, seconds, mean) for start, seconds, mean in session.connection().execute(query)]


def keep_latest(session: Session, points: list[SegmentPoint]) -> None:
    """Remember each segment direction's newest point."""
    if not points:
        return
    keys = {(p.segment_id, p.direction) for p in points}
    existing = {(r.segment_id, r.direction): r for r in session.scalars(
        select(SegmentLatest).where(SegmentLatest.segment_id.in_({k[0] for k in keys})))}
    for point in points:
        row = existing.get((point.segment_id, point.direction)) or SegmentLatest(
            segment_id=point.segment_id, direction=point.direction)
        row.at = datetime.fromtimestamp(point.at, UTC)
        row.utilization, row.bps, row.capacity_bps = point.utilization, point.bps, point.capacity_bps
        session.add(row)


def store_points(session: Session, points: Iterable[SegmentPoint], period_s: int = DEFAULT_PERIOD_S) -> int:
    """Roll ``points`` up into periods of ``period_s`` and store each period not stored yet (history from
    elsewhere than the live poll cycle, e.g. the demo's); returns how many rollups were stored."""
    buffer = RollupBuffer(period_s)
    for point in points:
        buffer.add(point)
    return store(session, buffer.close(sys.maxsize))
