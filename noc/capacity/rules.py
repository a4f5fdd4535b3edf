"""The capacity rules ("upgrade at 70 % occupancy") as data, and their pure evaluation over segment rollups.

Rules come from ``rules.yaml`` (defaults per segment kind) with per-segment overrides merged over them.
Evaluation takes one direction's rollups (anything with ``start``, ``seconds``, ``mean``, ``max``, ``p95``;
:class:`noc.capacity.models.SegmentRollup` fits) and returns :class:`Breach` results; it does no I/O.
Semantics (boundaries, local time, minimum data): docs/capacity-rules.md.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from collectors.strict_yaml import ConfigError, read_yaml
from noc.capacity.rollups import percentile
from noc.inventory.enums import DIRECTIONS, SEGMENT_KINDS

RULES_FILE = Path(__file__).with_name("rules.yaml")
"""The built-in defaults per segment kind."""

TOLERANCE = 1e-9
"""Comparisons with thresholds forgive float rounding this large: a figure that is 70 % counts as 70 %."""

QUANTILE = 0.95


class RulesError(ConfigError):
    """Rules that cannot be used; the message names the file (or override) and the field of each problem."""


# --- the rules as data -------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Share = Annotated[float, Field(gt=0, le=1, description="share of capacity (0..1)")]


class SustainedRule(_Strict):
    """``count`` adjacent rollups in a row, ending at the newest rollup, each with a mean at or above ``threshold``."""

    threshold: Share = 0.70
    count: int = Field(3, ge=1, description="rollups in a row (3 × 5 minutes = 15 minutes)")


class BusyHourRule(_Strict):
    """The p95 of the rollup means within the local busy hours of the last ``days`` days at or above ``threshold``."""

    threshold: Share = 0.70
    start: time = Field(time(19), description="local time of day, inclusive")
    end: time = Field(time(23), description="local time of day, exclusive")
    days: int = Field(7, ge=1, le=366)
    min_days: int = Field(3, ge=1, description="local days whose busy window is covered enough")
    min_coverage: float = Field(0.5, ge=0, le=1, description="share of a day's busy window covered by rollups")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, time) and value.tzinfo is None:
            return value
        if isinstance(value, str) and (m := re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)):
            hour, minute = int(m[1]), int(m[2])
            if hour > 23 or minute > 59:
                raise ValueError(f"{value!r} is not a time of day (00:00 .. 23:59)")
            return time(hour, minute)
        raise ValueError("a local time of day written 'HH:MM' in quotes, e.g. '19:00' "
                         "(unquoted, YAML reads 19:00 as the number 1140)")

    @model_validator(mode="after")
    def _consistent(self) -> BusyHourRule:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:%H:%M}) must be after start ({self.start:%H:%M}) on the same day")
        if self.min_days > self.days:
            raise ValueError(f"min_days ({self.min_days}) must not exceed days ({self.days})")
        return self


class ForecastRule(_Strict):
    """A least-squares trend of the daily busy-hour p95 reaching ``threshold`` within ``lead_days``."""

    threshold: Share = 0.70
    history_days: int = Field(28, ge=2, le=366, description="local days of daily busy-hour p95 the trend uses")
    min_points: int = Field(14, ge=2, description="days with a covered busy window needed for a trend")
    lead_days: int = Field(90, ge=0, le=3650, description="report a crossing predicted within this many days")

    @model_validator(mode="after")
    def _consistent(self) -> ForecastRule:
        if self.min_points > self.history_days:
            raise ValueError(f"min_points ({self.min_points}) must not exceed history_days ({self.history_days})")
        return self


class RuleSet(_Strict):
    """Every rule of one segment (a kind's defaults with the segment's overrides)."""

    sustained: SustainedRule = SustainedRule()
    busy_hour_p95: BusyHourRule = BusyHourRule()
    forecast: ForecastRule = ForecastRule()
    clear_threshold: float = Field(0.65, ge=0, lt=1, description="hysteresis: go below this before a new ticket")
    timezone: str = "Europe/Ljubljana"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    @model_validator(mode="after")
    def _hysteresis(self) -> RuleSet:
        for name in ("sustained", "busy_hour_p95"):
            threshold = getattr(self, name).threshold
            if self.clear_threshold >= threshold:
                raise ValueError(f"clear_threshold ({self.clear_threshold:g}) must be below "
                                 f"{name}.threshold ({threshold:g})")
        return self


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as 'Europe/Ljubljana')") from None


def load_rules(path: Path | None = None) -> dict[str, RuleSet]:
    """The rules of every segment kind from ``path`` (default: the built-in ``rules.yaml``).

    The file has ``common`` (optional) and ``kinds`` (every segment kind, possibly ``{}``); each kind's keys
    are merged over ``common``. Raises :class:`RulesError` naming the file and the field of each problem.
    """
    path = path or RULES_FILE
    raw = read_yaml(path, RulesError)  # duplicate keys are errors too
    unknown = sorted(str(k) for k in raw if k not in ("common", "kinds"))
    if unknown:
        raise RulesError(f"{path}: {unknown[0]}: unknown key (expected 'common' and 'kinds')")
    common = _mapping(raw.get("common") or {}, f"{path}: common")
    _validate(common, str(path), "common")
    kinds = _mapping(raw.get("kinds"), f"{path}: kinds")
    extra = sorted(str(k) for k in kinds if k not in SEGMENT_KINDS)
    missing = [k for k in SEGMENT_KINDS if k not in kinds]
    if extra:
        raise RulesError(f"{path}: kinds.{extra[0]}: unknown segment kind (known: {', '.join(SEGMENT_KINDS)})")
    if missing:
        raise RulesError(f"{path}: kinds: missing {', '.join(missing)} "
                         f"(write `{missing[0]}: {{}}` for the common rules)")
    return {kind: _validate(_merge(common, _mapping(kinds[kind] or {}, f"{path}: kinds.{kind}")),
                            str(path), f"kinds.{kind}") for kind in SEGMENT_KINDS}


def rules_for(kind: str, overrides: Mapping[str, Any] | None = None,
              defaults: dict[str, RuleSet] | None = None) -> RuleSet:
    """The rules of a segment of ``kind``: the kind's defaults with the segment's ``overrides`` merged over them.

    ``overrides`` has the shape of :class:`RuleSet`, any part of it (e.g. ``{"sustained": {"count": 6}}``).
    ``defaults`` defaults to the built-in file, read once per process.
    """
    table = _builtin_rules() if defaults is None else defaults
    if kind not in table:
        raise RulesError(f"no capacity rules for segment kind {kind!r} (known: {', '.join(table)})")
    if overrides is None:
        return table[kind]
    where = f"override ({kind} segment)"
    return _validate(_merge(table[kind].model_dump(), _mapping(overrides, where)), where)


@functools.cache
def _builtin_rules() -> dict[str, RuleSet]:
    return load_rules()


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RulesError(f"{where}: a mapping is required, not {type(value).__name__}")
    return value


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; mappings present in both merge key by key."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        out[key] = _merge(below, value) if isinstance(value, Mapping) and isinstance(below, Mapping) else value
    return out


def _validate(data: Mapping[str, Any], where: str, prefix: str = "") -> RuleSet:
    """``data`` as a :class:`RuleSet`; each problem becomes a line ``where: prefix.field.path: message``."""
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join([prefix, *map(str, err["loc"])] if prefix else map(str, err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {field}: {msg}" if field else f"{where}: {msg}")
        raise RulesError("\n".join(lines)) from None


# --- evaluation --------------------------------------------------------------------------------------------------


class RollupPoint(Protocol):
    """One rollup period of one segment direction (utilization shares 0..1)."""

    @property
    def start(self) -> datetime: ...
    @property
    def seconds(self) -> int: ...
    @property
    def mean(self) -> float: ...
    @property
    def max(self) -> float: ...
    @property
    def p95(self) -> float: ...


@dataclass(frozen=True)
class Breach:
    """A rule that fired for one direction, with the figures and the rollups that justify it."""

    rule: str
    direction: str
    value: float
    peak: float
    evidence: list[RollupPoint]
    priority: str
    predicted_date: date | None
    detail: str


def evaluate_sustained(rollups: Sequence[RollupPoint], rule: SustainedRule, direction: str) -> Breach | None:
    """The run of adjacent rollups at or above the threshold that ends at the newest rollup, if long enough.

    A missing period (the next start is not the previous start plus its seconds) breaks the run.
    """
    run = _newest_run(_series(rollups, direction), rule.threshold)
    if len(run) < rule.count:
        return None
    means = [r.mean for r in run]
    figures = ", ".join(map(_pct, means)) if len(run) <= 6 else (
        f"min {_pct(min(means))}, max {_pct(max(means))}, newest {_pct(means[-1])}")
    detail = f"{len(run)} consecutive {_period(run[-1].seconds)} rollups >= {_limit(rule.threshold)} ({figures})"
    return Breach("sustained", direction, min(means), _peak(run), run, "high", None, detail)


def evaluate_busy_hour(rollups: Sequence[RollupPoint], rule: BusyHourRule, direction: str, now: datetime,
                       tz: str) -> Breach | None:
    """The p95 of the rollup means within the local busy hours of ``[now - days, now)``, once data suffices.

    It needs ``min_days`` local days whose busy window (clipped to that interval) is covered at least
    ``min_coverage`` by rollups; the p95 then takes every busy-hour rollup of the interval.
    """
    summary = busy_hour_summary(rollups, rule, direction, now, tz)
    if summary.covered_days < rule.min_days or summary.p95 is None:
        return None
    days, evidence, value = summary.days, summary.evidence, summary.p95
    if not _at_least(value, rule.threshold):
        return None
    detail = (f"busy-hour p95 {_pct(value)} >= {_limit(rule.threshold)} ({_window(rule, tz)}, last {rule.days} days: "
              f"{len(evidence)} rollups on {len(days)} days, peak {_pct(_peak(evidence))})")
    return Breach("busy_hour_p95", direction, value, _peak(evidence), evidence, "high", None, detail)


@dataclass(frozen=True)
class BusyHourSummary:
    """The busy-hour rollups of ``[now - days, now)``: their p95, and how many local days are covered enough."""

    p95: float | None
    covered_days: int
    days: list[_BusyDay]
    evidence: list[RollupPoint]


def busy_hour_summary(rollups: Sequence[RollupPoint], rule: BusyHourRule, direction: str, now: datetime,
                      tz: str) -> BusyHourSummary:
    """What the busy-hour rule looks at (also shown by the capacity report, before the rule can fire)."""
    until = _utc(now)
    days = _busy_days(_series(rollups, direction), rule, zone(tz), until - timedelta(days=rule.days), until)
    evidence = [r for day in days for r in day.rollups]
    p95 = percentile([r.mean for r in evidence], QUANTILE) if evidence else None
    return BusyHourSummary(p95, sum(day.covered(rule) for day in days), days, evidence)


def daily_busy_hour_p95(rollups: Sequence[RollupPoint], rule: BusyHourRule, tz: str) -> dict[date, float]:
    """Per local date, the p95 of the rollup means in that day's busy window (days covered too little left out)."""
    return {day.day: day.p95 for day in _busy_days(_series(rollups), rule, zone(tz)) if day.covered(rule)}


def evaluate_forecast(rollups: Sequence[RollupPoint], rule: ForecastRule, direction: str, now: datetime, tz: str,
                      busy: BusyHourRule | None = None) -> Breach | None:
    """A positive least-squares trend of the daily busy-hour p95 reaching the threshold within ``lead_days``.

    Days are the local dates of the last ``history_days`` (today included) whose busy window (``busy``,
    default :class:`BusyHourRule`) is covered enough. If the trend is at or above the threshold already,
    the predicted date is today.
    """
    until, local_zone = _utc(now), zone(tz)
    today = until.astimezone(local_zone).date()
    first = today - timedelta(days=rule.history_days - 1)
    busy = busy or BusyHourRule()
    series = [r for r in _series(rollups, direction) if _utc(r.start) < until]
    days = [d for d in _busy_days(series, busy, local_zone) if first <= d.day <= today and d.covered(busy)]
    if len(days) < rule.min_points:
        return None
    slope, intercept = _least_squares([(float((d.day - first).days), d.p95) for d in days])
    if slope <= 0:
        return None
    elapsed = (today - first).days
    crossing = (rule.threshold - intercept) / slope - elapsed - TOLERANCE  # days after today, maybe negative
    if crossing > rule.lead_days:
        return None
    ahead = max(0, math.ceil(crossing))
    predicted, trend_now = today + timedelta(days=ahead), intercept + slope * elapsed
    evidence = [r for d in days for r in d.rollups]
    limit = _limit(rule.threshold)
    when = f"is at or above {limit} already" if ahead == 0 else f"reaches {limit} on {predicted}, in {ahead} days"
    detail = (f"busy-hour p95 trend +{slope * 100:.2f} points/day over {len(days)} days "
              f"({_pct(days[0].p95)} → {_pct(days[-1].p95)}, trend today {_pct(trend_now)}) {when} "
              f"(lead time {rule.lead_days} days)")
    return Breach("forecast", direction, trend_now, _peak(evidence), evidence, "planning", predicted, detail)


def evaluate_all(rollups: Sequence[RollupPoint], rules: RuleSet, direction: str, now: datetime) -> list[Breach]:
    """Every rule's breach for one direction's rollups that started before ``now``."""
    until = _utc(now)
    series = [r for r in _series(rollups, direction) if _utc(r.start) < until]
    found = (
        evaluate_sustained(series, rules.sustained, direction),
        evaluate_busy_hour(series, rules.busy_hour_p95, direction, until, rules.timezone),
        evaluate_forecast(series, rules.forecast, direction, until, rules.timezone, busy=rules.busy_hour_p95),
    )
    return [breach for breach in found if breach is not None]


def went_below(rollups: Sequence[RollupPoint], clear_threshold: float) -> bool:
    """Whether any rollup's mean is below ``clear_threshold`` (exactly at it is not below)."""
    return any(not _at_least(r.mean, clear_threshold) for r in rollups)


def busy_window(day: date, rule: BusyHourRule, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """The busy window of local date ``day`` as UTC instants ``[start, end)``."""
    local_zone = zone(tz) if isinstance(tz, str) else tz
    start, end = (datetime.combine(day, t, local_zone).astimezone(UTC) for t in (rule.start, rule.end))
    return start, end


# --- helpers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BusyDay:
    """One local date's busy-hour rollups and the share of its (clipped) busy window they cover."""

    day: date
    rollups: list[RollupPoint]
    coverage: float

    @property
    def p95(self) -> float:
        return percentile([r.mean for r in self.rollups], QUANTILE)

    def covered(self, rule: BusyHourRule) -> bool:
        return _at_least(self.coverage, rule.min_coverage)


def _busy_days(series: list[RollupPoint], rule: BusyHourRule, local_zone: ZoneInfo,
               since: datetime | None = None, until: datetime | None = None) -> list[_BusyDay]:
    """Rollups starting within the local busy hours (and ``[since, until)``), grouped by local date, oldest first."""
    groups: dict[date, list[RollupPoint]] = {}
    for rollup in series:
        start = _utc(rollup.start)
        if (since is not None and start < since) or (until is not None and start >= until):
            continue
        local = start.astimezone(local_zone)
        if rule.start <= local.time() < rule.end:
            groups.setdefault(local.date(), []).append(rollup)
    return [_BusyDay(day, rs, _coverage(day, rs, rule, local_zone, since, until)) for day, rs in groups.items()]


def _coverage(day: date, rollups: list[RollupPoint], rule: BusyHourRule, local_zone: ZoneInfo,
              since: datetime | None, until: datetime | None) -> float:
    low, high = busy_window(day, rule, local_zone)
    low, high = max(low, since or low), min(high, until or high)
    expected = (high - low).total_seconds()
    return 1.0 if expected <= 0 else min(1.0, sum(r.seconds for r in rollups) / expected)


def _newest_run(series: list[RollupPoint], threshold: float) -> list[RollupPoint]:
    run: list[RollupPoint] = []
    for rollup in reversed(series):
        if not _at_least(rollup.mean, threshold) or (run and not _adjacent(rollup, run[-1])):
            break
        run.append(rollup)
    return run[::-1]


def _adjacent(earlier: RollupPoint, later: RollupPoint) -> bool:
    return _utc(earlier.start) + timedelta(seconds=earlier.seconds) == _utc(later.start)


def _least_squares(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through ``points`` (at least two distinct x)."""
    n = len(points)
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return slope, mean_y - slope * mean_x


def _series(rollups: Sequence[RollupPoint], direction: str | None = None) -> list[RollupPoint]:
    """The rollups sorted by start; ValueError if they mix directions or ``direction`` is unknown."""
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r} (known: {', '.join(DIRECTIONS)})")
    seen = {d for r in rollups if (d := getattr(r, "direction", None)) is not None}
    if len(seen) > 1 or (direction is not None and seen - {direction}):
        raise ValueError(f"rollups of one direction{f' ({direction})' if direction else ''} expected, "
                         f"got {', '.join(sorted(seen))}")
    return sorted(rollups, key=lambda r: _utc(r.start))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: rollup starts and now must be timezone-aware")
    return moment.astimezone(UTC)


def _at_least(value: float, threshold: float) -> bool:
    return value >= threshold - TOLERANCE


def _peak(rollups: Sequence[RollupPoint]) -> float:
    return max(r.max for r in rollups)


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def _limit(threshold: float) -> str:
    return f"{round(threshold * 100, 2):g} %"


def _period(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return f"{seconds // size}-{unit}"
    return f"{seconds}-second"


def _window(rule: BusyHourRule, tz: str) -> str:
    return f"{rule.start:%H:%M}–{rule.end:%H:%M} {tz}"
