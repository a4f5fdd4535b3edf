"""Evaluating the capacity rules over synthetic rollup series: boundaries, gaps, local busy hours across the
2026 daylight-saving changes in Europe/Ljubljana, minimum data, the forecast and hysteresis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from noc.capacity.rollups import RollupBuffer, SegmentPoint
from noc.capacity.rules import (
    BusyHourRule,
    ForecastRule,
    RuleSet,
    SustainedRule,
    busy_window,
    daily_busy_hour_p95,
    evaluate_all,
    evaluate_busy_hour,
    evaluate_forecast,
    evaluate_sustained,
    went_below,
)

TZ = "Europe/Ljubljana"
ZONE = ZoneInfo(TZ)
STEP = timedelta(minutes=5)
T0 = datetime(2026, 5, 4, 17, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Roll:
    """A rollup as the rules see it (SegmentRollup has the same attributes)."""

    start: datetime
    mean: float
    seconds: int = 300
    max: float = 0.0
    p95: float = 0.0


def roll(start: datetime, mean: float, seconds: int = 300) -> Roll:
    return Roll(start, mean, seconds, max=min(1.0, mean + 0.05), p95=mean)


def run(start: datetime, means: list[float], seconds: int = 300) -> list[Roll]:
    """Adjacent rollups from ``start``."""
    return [roll(start + timedelta(seconds=seconds * i), m, seconds) for i, m in enumerate(means)]


def span(start: datetime, end: datetime, mean: Callable[[datetime], float] | float) -> list[Roll]:
    """5-minute rollups covering ``[start, end)``, each mean given by ``mean`` (a value or of the start)."""
    out, at = [], start
    while at < end:
        out.append(roll(at, mean(at) if callable(mean) else mean))
        at += STEP
    return out


def busy(day: date, mean: float, share: float = 1.0, rule: BusyHourRule | None = None) -> list[Roll]:
    """Rollups over the first ``share`` of ``day``'s busy window."""
    low, high = busy_window(day, rule or BusyHourRule(), TZ)
    return span(low, low + (high - low) * share, mean)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


# --- sustained ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("means", "run_length"), [
    ([0.70, 0.70, 0.70], 3),                  # exactly 70 % counts
    ([0.70, 0.70, 0.6999], 0),                # 69.99 % does not
    ([0.6999, 0.70, 0.70, 0.70], 3),          # the run is the last three
    ([0.9, 0.9], 0),                          # too short
    ([0.9, 0.9, 0.9, 0.9, 0.5], 0),           # the run must end at the newest rollup
    ([0.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8], 7),
])
def test_sustained_boundaries(means: list[float], run_length: int) -> None:
    breach = evaluate_sustained(run(T0, means), SustainedRule(), "down")
    if not run_length:
        assert breach is None
        return
    assert breach is not None and breach.evidence == run(T0, means)[-run_length:]
    assert breach.value == min(means[-run_length:]) and breach.peak == max(r.max for r in breach.evidence)
    assert (breach.rule, breach.direction, breach.priority, breach.predicted_date) == ("sustained", "down", "high",
                                                                                     None)


def test_sustained_detail_sentence() -> None:
    breach = evaluate_sustained(run(T0, [0.721, 0.740, 0.735]), SustainedRule(), "up")
    assert breach is not None
    assert breach.detail == "3 consecutive 5-minute rollups >= 70 % (72.1 %, 74.0 %, 73.5 %)"
    long = evaluate_sustained(run(T0, [0.71, 0.9, 0.8, 0.75, 0.8, 0.8, 0.72]), SustainedRule(), "up")
    assert long is not None
    assert long.detail == "7 consecutive 5-minute rollups >= 70 % (min 71.0 %, max 90.0 %, newest 72.0 %)"


def test_a_missing_period_breaks_the_run() -> None:
    rollups = [*run(T0, [0.9, 0.9]), *run(T0 + 3 * STEP, [0.9, 0.9])]  # T0 + 2 × 5 min is missing
    assert evaluate_sustained(rollups, SustainedRule(), "down") is None
    breach = evaluate_sustained([*rollups, *run(T0 + 5 * STEP, [0.9])], SustainedRule(), "down")
    assert breach is not None and [r.start for r in breach.evidence] == [T0 + i * STEP for i in (3, 4, 5)]


def test_unsorted_input_is_sorted() -> None:
    rollups = run(T0, [0.8, 0.8, 0.8])
    assert evaluate_sustained(rollups[::-1], SustainedRule(), "down") is not None


def test_the_count_is_what_is_configured_whatever_the_period() -> None:
    demo = run(T0, [0.75, 0.8, 0.76], seconds=30)
    breach = evaluate_sustained(demo, SustainedRule(count=3), "down")
    assert breach is not None and breach.detail.startswith("3 consecutive 30-second rollups >= 70 %")
    assert evaluate_sustained(demo, SustainedRule(count=4), "down") is None


def test_a_segment_of_several_members_is_judged_on_its_combined_figure() -> None:
    """Utilization is summed upstream: the rules see the sum of the members' rates over the sum of capacities."""

    def rollups(bps_b: float) -> list:
        buffer, base = RollupBuffer(300), int(T0.timestamp())
        for at in range(base, base + 900, 60):  # 15 minutes of 1-minute polls
            bps_a, cap_a, cap_b = 8e9, 10e9, 10e9  # member A alone is at 80 %
            buffer.add(SegmentPoint(7, "down", at, bps_a + bps_b, cap_a + cap_b))
        return buffer.close(base + 900)

    calm = rollups(5e9)  # (8 + 5) / 20 = 65 %
    assert [r.mean for r in calm] == pytest.approx([0.65] * 3)
    assert evaluate_sustained(calm, SustainedRule(), "down") is None
    loaded = rollups(6e9)  # (8 + 6) / 20 = 70 %
    breach = evaluate_sustained(loaded, SustainedRule(), "down")
    assert breach is not None and breach.value == pytest.approx(0.70) and len(breach.evidence) == 3


def test_mixed_directions_and_naive_times_are_refused() -> None:
    buffer = RollupBuffer(300)
    for direction in ("down", "up"):
        buffer.add(SegmentPoint(7, direction, 0, 1e9, 2e9))
    mixed = buffer.close(300)
    with pytest.raises(ValueError, match="one direction"):
        evaluate_sustained(mixed, SustainedRule(), "down")
    with pytest.raises(ValueError, match="one direction \\(up\\)"):
        evaluate_sustained([r for r in mixed if r.direction == "down"], SustainedRule(), "up")
    with pytest.raises(ValueError, match="unknown direction"):
        evaluate_sustained([], SustainedRule(), "sideways")
    with pytest.raises(ValueError, match="naive"):
        evaluate_sustained(run(datetime(2026, 5, 4, 17), [0.8, 0.8]), SustainedRule(), "down")


# --- busy-hour p95 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "first_utc", "day_hours"), [
    (date(2026, 1, 14), "18:00", 24),   # winter (CET, UTC+1)
    (date(2026, 7, 14), "17:00", 24),   # summer (CEST, UTC+2)
    (date(2026, 3, 28), "18:00", 24),   # the day before clocks go forward
    (date(2026, 3, 29), "17:00", 23),   # 02:00 CET → 03:00 CEST: a 23-hour day
    (date(2026, 10, 24), "17:00", 24),  # the day before clocks go back
    (date(2026, 10, 25), "18:00", 25),  # 03:00 CEST → 02:00 CET: a 25-hour day
])
def test_busy_hours_are_local_on_dst_change_days(day: date, first_utc: str, day_hours: int) -> None:
    midnight, next_midnight = local(day, 0), datetime.combine(day + timedelta(days=1), time(0), ZONE)
    whole_day = span(midnight.astimezone(UTC), next_midnight.astimezone(UTC), 0.5)
    assert len(whole_day) == day_hours * 12
    rule = BusyHourRule(threshold=0.5, days=1, min_days=1)
    breach = evaluate_busy_hour(whole_day, rule, "down", next_midnight, TZ)
    assert breach is not None
    first = datetime.combine(day, time.fromisoformat(first_utc), UTC)
    assert [r.start for r in breach.evidence] == [first + i * STEP for i in range(48)]  # 4 hours, 19:00–22:55 local
    assert busy_window(day, rule, TZ) == (first, first + timedelta(hours=4))
    assert daily_busy_hour_p95(whole_day, rule, TZ) == {day: 0.5}


def test_only_rollups_starting_19_00_to_before_23_00_local_count() -> None:
    day = date(2026, 5, 4)
    rollups = span(local(day, 18, 55), local(day, 23, 5), 0.5)
    breach = evaluate_busy_hour(rollups, BusyHourRule(min_days=1, threshold=0.5), "down", local(day, 23, 30), TZ)
    assert breach is not None and len(breach.evidence) == 48
    assert (breach.evidence[0].start, breach.evidence[-1].start) == (local(day, 19), local(day, 22, 55))


def three_days(mean: float, first: date = date(2026, 5, 2), share: float = 1.0) -> tuple[list[Roll], datetime]:
    """Busy-hour rollups on three local days and a ``now`` after the third one's busy hours."""
    rollups = [r for day in days(first, 3) for r in busy(day, mean, share)]
    return rollups, local(first + timedelta(days=2), 23, 30)


@pytest.mark.parametrize(("mean", "fires"), [(0.70, True), (0.6999, False), (0.95, True)])
def test_busy_hour_boundaries(mean: float, fires: bool) -> None:
    rollups, now = three_days(mean)
    breach = evaluate_busy_hour(rollups, BusyHourRule(), "up", now, TZ)
    assert (breach is not None) == fires
    if breach is not None:
        assert breach.value == pytest.approx(mean) and len(breach.evidence) == 3 * 48
        assert (breach.rule, breach.priority, breach.direction) == ("busy_hour_p95", "high", "up")
        assert breach.detail.startswith(f"busy-hour p95 {mean * 100:.1f} % >= 70 % (19:00–23:00 {TZ}, last 7 days")


def test_busy_hour_needs_min_days_of_covered_windows() -> None:
    two = [r for day in days(date(2026, 5, 2), 2) for r in busy(day, 0.95)]
    assert evaluate_busy_hour(two, BusyHourRule(), "down", local(date(2026, 5, 3), 23, 30), TZ) is None
    thin, now = three_days(0.95, share=0.4)
    assert evaluate_busy_hour(thin, BusyHourRule(), "down", now, TZ) is None
    half, now = three_days(0.95, share=0.5)
    assert evaluate_busy_hour(half, BusyHourRule(), "down", now, TZ) is not None
    minutes = busy(date(2026, 5, 4), 0.99, share=0.05)
    assert evaluate_busy_hour(minutes, BusyHourRule(), "down", local(date(2026, 5, 4), 19, 15), TZ) is None
    assert evaluate_busy_hour(minutes, BusyHourRule(min_days=1, min_coverage=0), "down",
                              local(date(2026, 5, 4), 19, 15), TZ) is not None


def test_todays_busy_window_counts_up_to_now() -> None:
    rollups = [r for day in days(date(2026, 5, 2), 2) for r in busy(day, 0.9)]
    rollups += busy(date(2026, 5, 4), 0.9, share=0.25)  # 19:00–20:00 so far: all of the window until now
    assert evaluate_busy_hour(rollups, BusyHourRule(), "down", local(date(2026, 5, 4), 20), TZ) is not None
    assert evaluate_busy_hour(rollups, BusyHourRule(), "down", local(date(2026, 5, 4), 23), TZ) is None


def test_busy_hour_looks_at_the_last_seven_days_only() -> None:
    old, _ = three_days(0.95, first=date(2026, 4, 20))
    recent, now = three_days(0.5)
    assert evaluate_busy_hour(old + recent, BusyHourRule(), "down", now, TZ) is None
    assert evaluate_busy_hour(old, BusyHourRule(), "down", now, TZ) is None


def test_busy_hour_ignores_other_hours_and_short_spikes() -> None:
    rollups, now = three_days(0.5)
    daytime = [r for day in days(date(2026, 5, 2), 3) for r in span(local(day, 9), local(day, 18), 0.95)]
    assert evaluate_busy_hour(rollups + daytime, BusyHourRule(), "down", now, TZ) is None
    spiky = [roll(r.start, 1.0) if i % 30 == 0 else r for i, r in enumerate(rollups)]  # 5 of 144
    assert evaluate_busy_hour(spiky, BusyHourRule(), "down", now, TZ) is None


def test_daily_p95_leaves_out_days_covered_too_little() -> None:
    rollups = busy(date(2026, 5, 2), 0.6) + busy(date(2026, 5, 3), 0.9, share=0.25)
    assert daily_busy_hour_p95(rollups, BusyHourRule(), TZ) == {date(2026, 5, 2): pytest.approx(0.6)}


# --- forecast ----------------------------------------------------------------------------------------------------

FIRST = date(2026, 3, 15)  # the 20-day series below spans the 23-hour day 2026-03-29


def trend(values: list[float], first: date = FIRST, share: float = 1.0) -> tuple[list[Roll], datetime]:
    """Busy-hour rollups whose daily p95 is ``values[i]`` on day i, plus off-peak noise; now = last day 23:30."""
    rollups = []
    for day, value in zip(days(first, len(values)), values, strict=True):
        rollups += busy(day, value, share) + span(local(day, 10), local(day, 12), 0.99)
    return rollups, local(first + timedelta(days=len(values) - 1), 23, 30)


def linear(count: int, start: float = 0.40, slope: float = 0.005) -> list[float]:
    return [start + slope * i for i in range(count)]


def test_forecast_predicts_the_crossing_date() -> None:
    rollups, now = trend(linear(20))  # 40 % + 0.5 points/day: 70 % on day 60
    daily = daily_busy_hour_p95(rollups, BusyHourRule(), TZ)
    assert len(daily) == 20 and daily[date(2026, 3, 29)] == pytest.approx(0.47)
    breach = evaluate_forecast(rollups, ForecastRule(), "down", now, TZ)
    assert breach is not None
    assert breach.predicted_date == FIRST + timedelta(days=60) == date(2026, 5, 14)
    assert (breach.rule, breach.priority) == ("forecast", "planning")
    assert breach.value == pytest.approx(0.495) and len(breach.evidence) == 20 * 48
    assert breach.detail == ("busy-hour p95 trend +0.50 points/day over 20 days (40.0 % → 49.5 %, trend today 49.5 %) "
                             "reaches 70 % on 2026-05-14, in 41 days (lead time 90 days)")


def test_forecast_lead_time_boundary() -> None:
    rollups, now = trend(linear(20))
    assert evaluate_forecast(rollups, ForecastRule(lead_days=41), "down", now, TZ) is not None
    assert evaluate_forecast(rollups, ForecastRule(lead_days=40), "down", now, TZ) is None


@pytest.mark.parametrize("values", [[0.6] * 20, linear(20, 0.65, -0.002)], ids=["flat", "falling"])
def test_forecast_needs_a_rising_trend(values: list[float]) -> None:
    rollups, now = trend(values)
    assert evaluate_forecast(rollups, ForecastRule(), "down", now, TZ) is None


def test_forecast_needs_enough_days() -> None:
    rollups, now = trend(linear(13, 0.6, 0.005))
    assert evaluate_forecast(rollups, ForecastRule(), "down", now, TZ) is None
    rollups, now = trend(linear(14, 0.6, 0.005))
    assert evaluate_forecast(rollups, ForecastRule(), "down", now, TZ) is not None
    thin, now = trend(linear(20, 0.6, 0.005), share=0.25)  # no day's busy window covered enough
    assert evaluate_forecast(thin, ForecastRule(), "down", now, TZ) is None


def test_forecast_uses_the_last_history_days_only() -> None:
    old, _ = trend(linear(10, 0.3, 0.03), first=FIRST - timedelta(days=40))
    recent, now = trend(linear(13, 0.6, 0.005))
    assert evaluate_forecast(old + recent, ForecastRule(), "down", now, TZ) is None


def test_forecast_already_above_predicts_today() -> None:
    rollups, now = trend(linear(20, 0.60, 0.01))  # 79 % on the last day
    breach = evaluate_forecast(rollups, ForecastRule(), "down", now, TZ)
    assert breach is not None and breach.predicted_date == now.date()
    assert "trend today 79.0 %) is at or above 70 % already (lead time 90 days)" in breach.detail


# --- all rules, hysteresis ---------------------------------------------------------------------------------------


def test_evaluate_all_runs_every_rule_on_rollups_before_now() -> None:
    rollups, now = trend(linear(20, 0.60, 0.01))  # the last busy hours end with 79 % rollups
    every = ["sustained", "busy_hour_p95", "forecast"]
    assert [b.rule for b in evaluate_all(rollups, RuleSet(), "down", now)] == every
    future = run(now.astimezone(UTC), [0.1])  # a rollup starting at now is not looked at
    assert [b.rule for b in evaluate_all(rollups + future, RuleSet(), "down", now)] == every
    assert evaluate_sustained(rollups + future, SustainedRule(), "down") is None
    calmer = run(max(r.start for r in rollups) + STEP, [0.3])  # 23:00 local, before now
    assert [b.rule for b in evaluate_all(rollups + calmer, RuleSet(), "down", now)] == every[1:]
    flat, now = trend([0.3] * 20)
    assert evaluate_all(flat, RuleSet(), "down", now) == []


def test_evaluate_all_uses_the_rulesets_busy_window_for_the_forecast() -> None:
    rollups, now = trend(linear(20, 0.60, 0.01))
    evening = RuleSet(busy_hour_p95=BusyHourRule(start=time(20), end=time(21)))
    assert [b.rule for b in evaluate_all(rollups, evening, "down", now)] == ["sustained", "busy_hour_p95", "forecast"]
    morning = RuleSet(busy_hour_p95=BusyHourRule(start=time(6), end=time(8)))  # no data then
    assert [b.rule for b in evaluate_all(rollups, morning, "down", now)] == ["sustained"]


@pytest.mark.parametrize(("means", "below"), [
    ([0.72, 0.66, 0.65], False),  # exactly at the clear threshold is not below it
    ([0.72, 0.6499, 0.75], True),
    ([], False),
])
def test_went_below(means: list[float], below: bool) -> None:
    assert went_below(run(T0, means), 0.65) is below
