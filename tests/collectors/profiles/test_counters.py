"""Counter arithmetic: wraps, resets, agent restarts, capacity checks."""

from __future__ import annotations

import pytest

from collectors.snmp.counters import (
    CounterReading,
    Gap,
    Rate,
    RateKey,
    RateTracker,
    Reason,
    agent_restarted,
    capacity_bps,
    measure,
    rate,
)
from collectors.snmp.values import Counter32, Counter64, Gauge32

C32 = 2**32
MBIT = 1e6


def c32(value: int, at: float, uptime_s: float | None = None) -> CounterReading:
    return CounterReading(value, Counter32, None if uptime_s is None else int(uptime_s * 100), at)


def c64(value: int, at: float, uptime_s: float | None = None) -> CounterReading:
    return CounterReading(value, Counter64, None if uptime_s is None else int(uptime_s * 100), at)


def test_counter64_rate_in_bits_per_second() -> None:
    prev, cur = c64(10 * C32, 1000.0, 5000), c64(10 * C32 + 37_500_000, 1300.0, 5300)
    result = rate(prev, cur, max_bps=1e9)
    assert result == Rate(1_000_000.0, 300.0, True)


def test_counter32_single_wrap_gives_the_true_delta() -> None:
    prev, cur = c32(C32 - 1_000, 0.0, 100), c32(500, 10.0, 110)
    result = rate(prev, cur, max_bps=100 * MBIT)
    assert result is not None and result.valid
    assert result.bps == pytest.approx(1_500 * 8 / 10)


def test_counter32_wrap_without_known_capacity_is_accepted() -> None:
    result = rate(c32(C32 - 10, 0.0), c32(10, 1.0))
    assert result is not None and result.bps == 160.0


def test_counter32_decrease_implying_rate_above_capacity_is_a_reset() -> None:
    # 3e9 → 1000 in 300 s would need ~34 Mbit/s on a 10 Mbit/s port: the counter was cleared, not wrapped.
    result = measure(c32(3_000_000_000, 0.0), c32(1_000, 300.0), max_bps=10 * MBIT)
    assert result == Gap(Reason.IMPLAUSIBLE_WRAP, 300.0)
    assert rate(c32(3_000_000_000, 0.0), c32(1_000, 300.0), max_bps=10 * MBIT) is None


def test_counter32_on_a_link_that_can_wrap_twice_is_invalid() -> None:
    # 1 Gbit/s for 300 s is 37.5 GB: a Counter32 may have wrapped several times, the delta is ambiguous.
    result = measure(c32(1_000, 0.0), c32(2_000_000, 300.0), max_bps=1e9)
    assert isinstance(result, Rate) and not result.valid and result.reason == Reason.AMBIGUOUS_WRAP


def test_counter64_decrease_is_a_discontinuity() -> None:
    result = measure(c64(5_000_000, 0.0, 1000), c64(4_000, 300.0, 1300))
    assert result == Gap(Reason.COUNTER_RESET, 300.0)


def test_sysuptime_going_back_means_restart_and_never_a_spike() -> None:
    # The counter went *up* (no decrease to notice), but the agent restarted: no rate at all.
    prev, cur = c64(1_000, 0.0, uptime_s=86_400), c64(900_000_000_000, 300.0, uptime_s=120)
    assert measure(prev, cur) == Gap(Reason.AGENT_RESTART, 300.0)
    assert agent_restarted(prev, cur)


def test_restart_hidden_by_uptime_advancing_too_little() -> None:
    # uptime 30 s at the last poll; restarted again 250 s later: uptime 50 s now, still larger than before.
    prev, cur = c64(1_000_000, 0.0, uptime_s=30), c64(5_000_000, 300.0, uptime_s=50)
    assert agent_restarted(prev, cur)
    assert measure(prev, cur) == Gap(Reason.AGENT_RESTART, 300.0)


def test_uptime_lagging_within_tolerance_is_no_restart() -> None:
    prev, cur = c64(0, 0.0, uptime_s=1_000), c64(3_000, 300.0, uptime_s=1_000 + 280)
    assert not agent_restarted(prev, cur)
    assert isinstance(measure(prev, cur), Rate)


def test_timeticks_wrap_is_no_restart() -> None:
    # sysUpTime wraps at 2**32 ticks (~497 days): went "back" but advanced exactly the interval.
    prev = CounterReading(0, Counter64, C32 - 100 * 100, 0.0)
    cur = CounterReading(3_000, Counter64, 200 * 100, 300.0)
    assert not agent_restarted(prev, cur)
    assert measure(prev, cur) == Rate(80.0, 300.0, True)


def test_unknown_uptime_skips_the_restart_check() -> None:
    assert not agent_restarted(c64(0, 0.0), c64(10, 300.0, uptime_s=1))


def test_rate_above_interface_speed_is_kept_but_invalid() -> None:
    result = measure(c64(0, 0.0), c64(150 * MBIT / 8 * 10, 10.0), max_bps=100 * MBIT)
    assert isinstance(result, Rate)
    assert result.bps == pytest.approx(150 * MBIT)
    assert not result.valid and result.reason == Reason.ABOVE_CAPACITY


def test_zero_capacity_means_unknown() -> None:
    result = measure(c64(0, 0.0), c64(1_000_000, 1.0), max_bps=0)
    assert isinstance(result, Rate) and result.valid


def test_no_time_elapsed_and_kind_change() -> None:
    assert measure(c64(0, 5.0), c64(10, 5.0)) == Gap(Reason.NO_TIME_ELAPSED, 0.0)
    assert measure(c64(0, 0.0), c32(10, 5.0)) == Gap(Reason.KIND_CHANGED, 5.0)


@pytest.mark.parametrize(
    ("high", "speed", "override", "expected"),
    [
        (1000, 10_000_000, None, 1e9),  # ifHighSpeed wins
        (0, 100_000_000, None, 1e8),  # ifHighSpeed 0 → ifSpeed
        (None, 100_000_000, None, 1e8),  # ifHighSpeed absent → ifSpeed
        (None, 2**32 - 1, None, None),  # saturated ifSpeed says nothing
        (None, 0, None, None),
        (1000, None, 250e6, 250e6),  # a capacity override wins
    ],
)
def test_capacity(high: int | None, speed: int | None, override: float | None, expected: float | None) -> None:
    assert capacity_bps(high, speed, override) == expected


def test_reading_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        CounterReading(1, Gauge32, None, 0.0)
    with pytest.raises(ValueError, match="outside"):
        CounterReading(C32, Counter32, None, 0.0)
    with pytest.raises(TypeError):
        CounterReading.of(5, at=0.0)
    assert CounterReading.of(Counter32(5), at=1.0, uptime_ticks=7) == CounterReading(5, Counter32, 7, 1.0)


def test_tracker_first_rate_restart_and_recovery() -> None:
    tracker = RateTracker()
    key = RateKey("cmts1", "5", "interface.in_bps")
    assert tracker.update(key, c64(0, 0.0, 1_000)) == Gap(Reason.FIRST_READING, 0.0)
    assert tracker.update(key, c64(3_750, 300.0, 1_300)) == Rate(100.0, 300.0, True)
    # restart: one interval lost, then the new baseline gives rates again
    assert tracker.update(key, c64(10, 600.0, 20)) == Gap(Reason.AGENT_RESTART, 300.0)
    assert tracker.update(key, c64(3_760, 900.0, 320)) == Rate(100.0, 300.0, True)
    assert len(tracker) == 1


def test_tracker_ignores_stale_readings_and_keeps_keys_apart() -> None:
    tracker = RateTracker(scale=1.0)
    a, b = RateKey("d", "1", "in"), RateKey("d", "1", "out")
    tracker.update(a, c64(100, 10.0))
    tracker.update(b, c64(0, 10.0))
    assert tracker.update(a, c64(50, 5.0)) == Gap(Reason.NO_TIME_ELAPSED, -5.0)
    assert tracker.update(a, c64(200, 20.0)) == Rate(10.0, 10.0, True)
    assert tracker.update(b, c64(20, 20.0), scale=8.0) == Rate(16.0, 10.0, True)


def test_tracker_forget_and_prune() -> None:
    tracker = RateTracker()
    tracker.update(RateKey("a", "1", "in"), c64(0, 10.0))
    tracker.update(RateKey("a", "2", "in"), c64(0, 50.0))
    tracker.update(RateKey("b", "1", "in"), c64(0, 50.0))
    assert tracker.prune(older_than=20.0) == 1
    assert tracker.forget("a") == 1
    assert len(tracker) == 1
