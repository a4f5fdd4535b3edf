"""The regulator's method, applied: which measurements count, whether the campaign is valid (and what it still
lacks), and each criterion's verdict per direction. Pure functions over :class:`Sample` values; no I/O.

Semantics (boundaries, local days, set-aside reasons): docs/complaints.md.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any

from noc.complaints.profiles import SPEED_NAMES, Campaign, Criterion, Profile

TOLERANCE = 1e-9
DIRECTIONS = ("download", "upload")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


@dataclass(slots=True)
class Sample:
    """One measurement as the method sees it: when (UTC and local), speeds in Mbit/s, over which medium."""

    id: int
    test_id: str
    at: datetime
    local: datetime
    download: float
    upload: float
    ping_ms: float
    medium: str

    @property
    def day(self) -> date:
        """The local calendar day."""
        return self.local.date()

    def speed(self, direction: str) -> float:
        """Download or upload speed in Mbit/s."""
        return self.download if direction == "download" else self.upload


@dataclass(frozen=True)
class Speeds:
    """A package's three speeds per direction (Mbit/s)."""

    download: dict[str, float]
    upload: dict[str, float]

    def of(self, direction: str) -> dict[str, float]:
        """``{"maximum", "normal", "minimum"}`` of ``direction``."""
        return self.download if direction == "download" else self.upload


@dataclass(frozen=True)
class Check:
    """One validity rule of the campaign and whether it holds."""

    rule: str
    ok: bool
    detail: str


@dataclass
class CampaignResult:
    """Which measurements count, the validity checks, and what the campaign still lacks."""

    counted: list[Sample]
    set_aside: dict[int, str]
    """Measurement id → why it does not count (``not_lan``, ``excluded_hours``, ``too_close``)."""
    checks: list[Check]
    missing: list[str]
    conditions: str

    @property
    def valid(self) -> bool:
        """True when every check holds."""
        return all(c.ok for c in self.checks)


SET_ASIDE = {
    "not_lan": "not over LAN: the method counts LAN measurements only",
    "excluded_hours": "inside the excluded hours",
    "too_close": "too soon after the previous counted measurement",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _dates(days: Sequence[date], shown: int = 10) -> str:
    """`` (d1, d2, …)`` listing at most ``shown`` dates; empty for none."""
    if not days:
        return ""
    more = f" and {len(days) - shown} more" if len(days) > shown else ""
    return " (" + ", ".join(map(str, days[:shown])) + more + ")"


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else f"{n}th"


def _excluded(sample: Sample, campaign: Campaign) -> bool:
    at = sample.local.time()
    return any(hours.contains(at) for hours in campaign.excluded_hours)


def select_counted(samples: Sequence[Sample], campaign: Campaign) -> tuple[list[Sample], dict[int, str]]:
    """The measurements that count (in time order) and why each other one does not."""
    counted: list[Sample] = []
    set_aside: dict[int, str] = {}
    spacing = timedelta(minutes=campaign.min_spacing_minutes)
    for sample in sorted(samples, key=lambda s: (s.at, s.id)):
        if campaign.lan_only and sample.medium != "lan":
            set_aside[sample.id] = "not_lan"
        elif _excluded(sample, campaign):
            set_aside[sample.id] = "excluded_hours"
        elif counted and spacing and sample.at - counted[-1].at < spacing:
            set_aside[sample.id] = "too_close"
        else:
            counted.append(sample)
    return counted, set_aside


def judge_campaign(samples: Sequence[Sample], campaign: Campaign) -> CampaignResult:
    """Whether ``samples`` make a valid campaign under ``campaign``; what is missing when they do not."""
    counted, set_aside = select_counted(samples, campaign)
    per_day: dict[date, int] = defaultdict(int)
    for sample in counted:
        per_day[sample.day] += 1
    days = sorted(per_day)
    full = [d for d in days if per_day[d] >= campaign.per_day]
    span = (days[-1] - days[0]).days + 1 if days else 0
    checks = [
        Check("measurements", len(counted) >= campaign.measurements,
              f"{len(counted)} counted of {campaign.measurements} needed"),
        Check("days", len(full) >= campaign.days,
              f"{_plural(len(full), 'day')} with at least {_plural(campaign.per_day, 'counted measurement')} "
              f"of {campaign.days} needed"),
        Check("within_days", span <= campaign.within_days,
              f"counted measurements span {_plural(span, 'day')}; at most {campaign.within_days} allowed"),
    ]
    missing: list[str] = []
    if span > campaign.within_days:
        missing.append(f"the counted measurements span {span} days but the method allows {campaign.within_days}: "
                       "choose a period (from/to) around one campaign")
    if campaign.day_gap:
        close = [(a, b) for a, b in itertools.pairwise(days) if (b - a).days <= campaign.day_gap]
        checks.append(Check("day_gap", not close, f"at least {_plural(campaign.day_gap, 'day')} between measurement "
                            "days" + (": " + ", ".join(f"{a} and {b}" for a, b in close) + " are too close"
                                      if close else "")))
        missing.extend(f"{_plural(campaign.day_gap, 'day')} between {a} and {b}: measure on other days"
                       for a, b in close)
    planned = 0
    if campaign.per_day > 1 or campaign.days > 1:
        partial = sorted((d for d in days if per_day[d] < campaign.per_day), key=lambda d: (-per_day[d], d))
        for k in range(len(full), campaign.days):
            if partial:
                day = partial.pop(0)
                more = campaign.per_day - per_day[day]
                missing.append(f"{_plural(more, 'more measurement')} on the {_ordinal(days.index(day) + 1)} "
                               f"day ({day})")
            else:
                more = campaign.per_day
                missing.append(f"{_plural(more, 'measurement')} on a {_ordinal(k + 1)} day")
            planned += more
    extra = campaign.measurements - len(counted) - planned
    if extra > 0:
        missing.append(_plural(extra, "more measurement"))
    return CampaignResult(counted, set_aside, checks, missing, conditions(campaign, days[0] if days else None))


def conditions(campaign: Campaign, first_day: date | None) -> str:
    """What every further measurement must meet, in words."""
    parts = []
    if campaign.lan_only:
        parts.append("over LAN")
    if campaign.excluded_hours:
        parts.append("outside " + ", ".join(str(h) for h in campaign.excluded_hours) + " local time")
    if campaign.min_spacing_minutes:
        parts.append(f"at least {campaign.min_spacing_minutes} minutes after the previous one")
    if first_day is not None:
        parts.append(f"by {first_day + timedelta(days=campaign.within_days - 1)}")
    return "each measurement " + ", ".join(parts) if parts else ""


@dataclass
class CriterionResult:
    """One criterion's verdict in one direction, with its numbers and the measurements behind it."""

    name: str
    description: str
    direction: str
    test: str
    speed: str
    threshold_mbps: float
    verdict: str
    """``met``, ``not_met`` or ``not_judged`` (no counted measurement)."""
    value: float | None
    required: float
    detail: str
    measurements: list[int] = field(default_factory=list)


def _days(counted: Sequence[Sample]) -> dict[date, list[Sample]]:
    by_day: dict[date, list[Sample]] = defaultdict(list)
    for sample in counted:
        by_day[sample.day].append(sample)
    return by_day


def judge_criterion(criterion: Criterion, counted: Sequence[Sample], speeds: Speeds,
                    direction: str) -> CriterionResult:
    """``criterion`` over the counted measurements in ``direction``."""
    threshold = criterion.share * speeds.of(direction)[criterion.speed]
    limit = f"{threshold:.1f} Mbit/s ({criterion.share:.0%} of the {SPEED_NAMES[criterion.speed]} speed)"
    result = CriterionResult(criterion.name, criterion.description, direction, criterion.test, criterion.speed,
                             round(threshold, 3), "not_judged", None, 0.0, "no counted measurements")
    if not counted:
        return result
    values = [s.speed(direction) for s in counted]
    reached = [s.speed(direction) >= threshold - TOLERANCE for s in counted]
    if criterion.test == "average":
        value = fmean(values)
        met, required = value >= threshold - TOLERANCE, threshold
        detail = f"average {value:.1f} Mbit/s of {len(values)} measurements; {limit} needed"
        behind = [s.id for s in counted]
    elif criterion.test == "share_reaching":
        value = sum(reached) / len(reached)
        met, required = value >= criterion.min_share - TOLERANCE, criterion.min_share
        detail = (f"{sum(reached)} of {len(reached)} measurements ({value:.0%}) reach {limit}; "
                  f"{criterion.min_share:.0%} needed")
        behind = [s.id for s, ok in zip(counted, reached, strict=True) if not ok]
    else:
        by_day = _days(counted)
        if criterion.test == "days_reaching":
            best = {d: max(day, key=lambda s: s.speed(direction)) for d, day in by_day.items()}
            good = sorted(d for d, s in best.items() if s.speed(direction) >= threshold - TOLERANCE)
            value, required = float(len(good)), float(criterion.min_days)
            met = len(good) >= criterion.min_days
            detail = (f"{limit} reached on {len(good)} of {_plural(len(by_day), 'day')}{_dates(good)}; "
                      f"{criterion.min_days} needed")
            behind = [best[d].id for d in sorted(best)]
        else:
            low = [s for s, ok in zip(counted, reached, strict=True) if not ok]
            bad_days = sorted({s.day for s in low})
            value, required = float(len(bad_days)), float(criterion.max_days)
            met = len(bad_days) <= criterion.max_days
            detail = (f"below {limit} on {len(bad_days)} of {_plural(len(by_day), 'day')}{_dates(bad_days)}; "
                      f"at most {criterion.max_days} allowed")
            behind = [s.id for s in low]
    result.verdict, result.value, result.required = ("met" if met else "not_met"), round(value, 4), required
    result.detail, result.measurements = detail, behind
    return result


@dataclass
class Judgement:
    """The method applied to a period's measurements."""

    campaign: CampaignResult
    criteria: list[CriterionResult]
    verdict: str
    directions: dict[str, str]


def verdict_of(valid: bool, results: Sequence[CriterionResult]) -> str:
    """``insufficient_evidence`` for an invalid campaign, else ``discrepancy`` when a criterion is not met."""
    if not valid:
        return "insufficient_evidence"
    return "discrepancy" if any(r.verdict == "not_met" for r in results) else "no_discrepancy"


def judge(samples: Sequence[Sample], profile: Profile, speeds: Speeds) -> Judgement:
    """Campaign validity, every criterion in both directions, and the verdicts."""
    campaign = judge_campaign(samples, profile.campaign)
    results = [judge_criterion(c, campaign.counted, speeds, d) for d in DIRECTIONS for c in profile.criteria]
    directions = {d: verdict_of(campaign.valid, [r for r in results if r.direction == d]) for d in DIRECTIONS}
    return Judgement(campaign, results, verdict_of(campaign.valid, results), directions)


def describe_method(profile: Profile) -> dict[str, Any]:
    """The profile's rules in words (for the record, the PDF and the JSON)."""
    c = profile.campaign
    rules = [f"{c.measurements} measurements within {c.within_days} days"]
    if c.days > 1 or c.per_day > 1:
        rules.append(f"at least {c.per_day} on each of {c.days} days")
    if c.day_gap:
        rules.append(f"at least {_plural(c.day_gap, 'calendar day')} between measurement days")
    if c.min_spacing_minutes:
        rules.append(f"at least {c.min_spacing_minutes} minutes between measurements")
    if c.excluded_hours:
        rules.append("outside " + ", ".join(str(h) for h in c.excluded_hours) + f" ({profile.timezone})")
    if c.lan_only:
        rules.append("over LAN only")
    return {"name": profile.name, "title": profile.title, "timezone": profile.timezone, "campaign": rules,
            "criteria": [{"name": k.name, "description": k.description} for k in profile.criteria]}
