"""Network context of each measurement (the access segment's utilization then, the CPE's line health around it,
LAN or Wi-Fi) and the most likely cause of slow measurements, with the evidence that led to it.

Utilization comes from capacity's rollups (the rollup period holding the measurement's time, download against
the downstream and upload against the upstream direction); line health from this capability's evidence capture
(readings within ``health_window_minutes``), else from polling's newest fleet-health verdict when that is as
close. Attribution is noc's judgement (docs/complaints.md): access congestion, line or CPE fault, in-home Wi-Fi,
or none found.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.capacity.rollups import means_between
from noc.complaints.method import DIRECTIONS, Sample, Speeds
from noc.complaints.models import CaptureReading
from noc.complaints.profiles import Attribution
from noc.inventory.models import Cpe, Segment
from noc.polling.models import CpeHealth

ROLLUP_REACH = timedelta(hours=1)
"""Longest rollup period looked back for (a rollup starting earlier cannot hold the measurement)."""
BAD_GRADES = ("bad", "unreachable")
GRADE_RANK = {"good": 0, "marginal": 1, "bad": 2, "unreachable": 3}
ROLLUP_DIRECTION = {"download": "down", "upload": "up"}


@dataclass
class Health:
    """The CPE's line health around one measurement."""

    grade: str
    at: datetime
    source: str
    """``capture`` (this case's evidence capture) or ``fleet`` (polling's newest verdict)."""
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Context:
    """What the network looked like during one measurement."""

    segment: str | None
    utilization: dict[str, float | None]
    """``down`` / ``up``: the mean share of capacity in the rollup period holding the measurement."""
    health: Health | None
    medium: str


class _Rollups:
    """One direction's rollups, searchable by time (seconds since 1970)."""

    def __init__(self, rows: Sequence[tuple[float, int, float]]) -> None:
        self.starts = [start for start, _, _ in rows]
        self.ends = [start + seconds for start, seconds, _ in rows]
        self.means = [mean for _, _, mean in rows]

    def at(self, when: float) -> float | None:
        i = bisect.bisect_right(self.starts, when) - 1
        return self.means[i] if i >= 0 and when < self.ends[i] else None


@dataclass(frozen=True)
class _Reading:
    at: datetime
    ok: bool
    grade: str
    readings: str
    error: str


def _findings(reading: _Reading) -> list[dict[str, Any]]:
    if not reading.ok:
        return [{"error": reading.error}]
    if reading.grade == "good":
        return []
    found: list[dict[str, Any]] = [r for r in json.loads(reading.readings) if r.get("grade") != "good"]
    return found


def gather(session: Session, subscriber_id: int, samples: Sequence[Sample], window_minutes: int) -> dict[int, Context]:
    """Context of every sample (by measurement id)."""
    cpes = list(session.scalars(select(Cpe).where(Cpe.subscriber_id == subscriber_id).order_by(Cpe.id)))
    segment_id = next((c.segment_id for c in cpes if c.segment_id is not None), None)
    segment = session.get(Segment, segment_id) if segment_id is not None else None
    window = timedelta(minutes=window_minutes)
    rollups: dict[str, _Rollups] = {}
    readings: list[_Reading] = []
    if samples:
        first, last = min(s.at for s in samples), max(s.at for s in samples)
        if segment is not None:
            rollups = {d: _Rollups(means_between(session, segment.id, d, first - ROLLUP_REACH, last))
                       for d in ("down", "up")}
        if cpes:
            query = select(CaptureReading.at, CaptureReading.ok, CaptureReading.grade, CaptureReading.readings,
                           CaptureReading.error).where(
                CaptureReading.cpe_id.in_([c.id for c in cpes]), CaptureReading.at >= first - window,
                CaptureReading.at <= last + window).order_by(CaptureReading.at)
            readings = [_Reading(*row) for row in session.execute(query)]
    fleet = [h for h in (session.get(CpeHealth, c.id) for c in cpes) if h is not None]
    times = [r.at.timestamp() for r in readings]
    chosen: dict[int, Health] = {}
    out: dict[int, Context] = {}
    down, up = rollups.get("down"), rollups.get("up")
    segment_name = segment.name if segment else None
    for sample in samples:
        when = sample.at.timestamp()
        utilization = {"down": down.at(when) if down else None, "up": up.at(when) if up else None}
        out[sample.id] = Context(segment_name, utilization,
                                 _health(readings, times, chosen, fleet, sample.at, when, window), sample.medium)
    return out


def _health(readings: list[_Reading], times: list[float], chosen: dict[int, Health], fleet: list[CpeHealth],
            at: datetime, when: float, window: timedelta) -> Health | None:
    """The worst captured grade within ``window`` of ``at`` (``when``: the same in seconds since 1970, as ``times``
    are the readings'); else a fleet verdict that close; else None. ``chosen`` keeps the health made of each
    reading once (measurements near the same reading share it)."""
    reach = window.total_seconds()
    low, high = bisect.bisect_left(times, when - reach), bisect.bisect_right(times, when + reach)
    if low < high:
        index = low
        if high - low > 1:  # the worst grade, the nearest among equals
            index = max(range(low, high), key=lambda i: (GRADE_RANK.get(readings[i].grade, 0), -abs(times[i] - when)))
        health = chosen.get(index)
        if health is None:
            worst = readings[index]
            health = chosen[index] = Health(worst.grade, worst.at, "capture", _findings(worst))
        return health
    close = [h for h in fleet if abs(h.at - at) <= window]
    if close:
        worst_fleet = max(close, key=lambda h: GRADE_RANK.get(h.grade, 0))
        return Health(worst_fleet.grade, worst_fleet.at, "fleet", json.loads(worst_fleet.findings))
    return None


@dataclass
class Cause:
    """A likely cause and the evidence that led to it."""

    cause: str
    evidence: str
    measurements: list[int]
    strength: float
    """Share of the slow measurements it explains (0..1)."""


NONE_FOUND = "none found"


def attribute(samples: Sequence[Sample], counted: Sequence[Sample], contexts: dict[int, Context], speeds: Speeds,
              rules: Attribution) -> list[Cause]:
    """Likely causes, strongest first (empty: none found).

    Slow measurements are the counted ones (all of them, when none count) below the normally available speed in
    a direction; congestion and line faults are judged on them, in-home Wi-Fi on WLAN against LAN medians.
    """
    basis = counted or samples
    causes: list[Cause] = []
    slow = {d: [s for s in basis if s.speed(d) < speeds.of(d)["normal"]] for d in DIRECTIONS}
    congested: list[str] = []
    congested_ids: list[int] = []
    judged = explained = 0
    for direction, group in slow.items():
        shares = ((s, contexts[s.id].utilization[ROLLUP_DIRECTION[direction]]) for s in group)
        known = [(s, u) for s, u in shares if u is not None]
        hot = [(s, u) for s, u in known if u >= rules.congestion_utilization]
        judged, explained = judged + len(known), explained + len(hot)
        if hot:
            hot_shares = [u for _, u in hot]
            segment = contexts[hot[0][0].id].segment
            congested.append(f"{len(hot)} of {len(known)} slow {direction} measurements ran while {segment} was at "
                             f"{min(hot_shares):.0%}–{max(hot_shares):.0%} {ROLLUP_DIRECTION[direction]}stream "
                             f"(≥ {rules.congestion_utilization:.0%})")
            congested_ids.extend(s.id for s, _ in hot)
    if judged and explained / judged >= rules.congestion_share:
        causes.append(Cause("access congestion", "; ".join(congested), sorted(set(congested_ids)),
                            explained / judged))
    slow_all = {s.id: s for group in slow.values() for s in group}
    graded = [s for s in slow_all.values() if contexts[s.id].health is not None]
    faulty = [s for s in graded if contexts[s.id].health.grade in BAD_GRADES]  # type: ignore[union-attr]
    if graded and faulty and len(faulty) / len(graded) >= rules.congestion_share:
        notes = sorted({_finding_text(f) for s in faulty for f in contexts[s.id].health.findings})  # type: ignore[union-attr]
        causes.append(Cause("line or CPE fault", f"{len(faulty)} of {len(graded)} slow measurements had the CPE "
                            "graded bad or unreachable around them" + (": " + "; ".join(notes[:5]) if notes else ""),
                            sorted(s.id for s in faulty), len(faulty) / len(graded)))
    wifi = _wifi(samples, rules)
    if wifi is not None:
        causes.append(wifi)
    causes.sort(key=lambda c: -c.strength)
    return causes


def _finding_text(finding: dict[str, Any]) -> str:
    if "error" in finding:
        return f"poll failed ({finding['error']})"
    return f"{finding.get('rule')}: {finding.get('field')} {finding.get('value')} ({finding.get('grade')})"


def _wifi(samples: Sequence[Sample], rules: Attribution) -> Cause | None:
    lan = [s.download for s in samples if s.medium == "lan"]
    wlan = [s for s in samples if s.medium == "wlan"]
    if len(lan) < 2 or len(wlan) < 2:
        return None
    lan_median, wlan_median = median(lan), median(s.download for s in wlan)
    if wlan_median >= rules.wifi_ratio * lan_median:
        return None
    return Cause("in-home Wi-Fi", f"median download over WLAN {wlan_median:.1f} Mbit/s ({len(wlan)} measurements) is "
                 f"below {rules.wifi_ratio:.0%} of the median over LAN {lan_median:.1f} Mbit/s ({len(lan)})",
                 sorted(s.id for s in wlan), 1 - wlan_median / lan_median if lan_median else 1.0)
