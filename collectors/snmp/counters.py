"""Rates from successive SNMP counter readings, correct under wraps, resets and agent restarts.

What goes wrong with naive ``(cur - prev) / dt`` and what this module does instead:

- **Counter32 wrap**: a decrease of a Counter32 is taken as one wrap (``+ 2**32``) — unless the rate that
  implies is above the interface's capacity, which means the counter was reset: no rate.
- **Counter64 decrease**: a 64-bit octet counter does not wrap in practice, so a decrease is a reset or
  discontinuity: no rate.
- **Agent restart**: sysUpTime (TimeTicks) going backwards, or advancing much less than the wall-clock time
  between the two polls, means the agent restarted in between (or another device answers at that address):
  no rate for that interval — never the spike that Telegraf, Prometheus or LibreNMS would show.
- **Impossible rates**: a rate above the interface capacity (ifHighSpeed × 1e6, ifSpeed as fallback, or an
  override) is returned with ``valid=False``: kept for display, never to be used for decisions. So is a
  Counter32 rate when the link could wrap the counter more than once in the interval.

``at`` is the poller's wall-clock time of the response in seconds (Unix time, float); octet counters are
turned into bit/s with ``scale=8`` (use ``scale=1`` for plain events per second, e.g. codewords).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from collectors.snmp.values import COUNTER_MODULUS, Counter32, Counter64

TIMETICKS_MODULUS = 2**32
"""sysUpTime wraps after 2**32 hundredths of a second (about 497 days)."""

UPTIME_TOLERANCE = 0.1
"""Share of the poll interval by which sysUpTime may lag the wall clock before a restart is assumed."""

UPTIME_SLACK_S = 5.0
"""Absolute slack (seconds) on top of :data:`UPTIME_TOLERANCE`, for response-time jitter."""

IFSPEED_SATURATED = 2**32 - 1
"""ifSpeed's value for "faster than 4.29 Gbit/s, read ifHighSpeed"."""


class Reason(StrEnum):
    """Why an interval gave no rate (:class:`Gap`) or an invalid one (:class:`Rate` with ``valid=False``)."""

    FIRST_READING = "first reading"
    NO_TIME_ELAPSED = "no time elapsed"
    KIND_CHANGED = "counter type changed"
    AGENT_RESTART = "agent restarted"
    COUNTER_RESET = "counter decreased"
    IMPLAUSIBLE_WRAP = "counter32 decrease implies a rate above capacity"
    ABOVE_CAPACITY = "rate above capacity"
    AMBIGUOUS_WRAP = "counter32 may have wrapped more than once"


@dataclass(frozen=True, slots=True)
class CounterReading:
    """One reading of a counter: its value and SMI kind, the agent's sysUpTime and when it was read."""

    value: int
    kind: type[int]
    uptime_ticks: int | None
    at: float

    def __post_init__(self) -> None:
        modulus = COUNTER_MODULUS.get(self.kind)
        if modulus is None:
            raise ValueError(f"kind must be Counter32 or Counter64, not {self.kind.__name__}")
        if not 0 <= self.value < modulus:
            raise ValueError(f"{self.value} is outside the range of a {self.kind.__name__}")

    @classmethod
    def of(cls, value: int, *, at: float, uptime_ticks: int | None = None) -> CounterReading:
        """A reading whose kind is taken from the value's class (:class:`Counter32` or :class:`Counter64`)."""
        kind = next((k for k in COUNTER_MODULUS if isinstance(value, k)), None)
        if kind is None:
            raise TypeError(f"expected a Counter32 or Counter64 value, got {type(value).__name__}")
        return cls(int(value), kind, uptime_ticks, at)


@dataclass(frozen=True, slots=True)
class Rate:
    """A rate over one interval; when ``valid`` is false it may be shown but must not drive decisions."""

    bps: float
    interval_s: float
    valid: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval for which no rate can be given (first reading, restart, reset...)."""

    reason: Reason
    interval_s: float


def capacity_bps(
    high_speed_mbps: int | None = None, speed_bps: int | None = None, override_bps: float | None = None
) -> float | None:
    """Interface capacity in bit/s: the override, else ifHighSpeed (Mbit/s) × 1e6, else ifSpeed (bit/s).

    A zero or absent ifHighSpeed falls back to ifSpeed; a zero or saturated ifSpeed (2**32 − 1) means unknown.
    """
    if override_bps:
        return float(override_bps)
    if high_speed_mbps:
        return high_speed_mbps * 1e6
    if speed_bps and speed_bps != IFSPEED_SATURATED:
        return float(speed_bps)
    return None


def agent_restarted(
    prev: CounterReading,
    cur: CounterReading,
    *,
    tolerance: float = UPTIME_TOLERANCE,
    slack_s: float = UPTIME_SLACK_S,
) -> bool:
    """Whether sysUpTime shows a restart between two readings (False when either uptime is unknown).

    sysUpTime going backwards is a restart, except for its own wrap at 2**32 ticks (recognised because the
    wrapped advance then matches the wall-clock interval). An advance much smaller than the interval also
    means a restart in between, or a different agent answering at the same address.
    """
    if prev.uptime_ticks is None or cur.uptime_ticks is None:
        return False
    interval = cur.at - prev.at
    lowest = interval * (1 - tolerance) - slack_s
    advanced = (cur.uptime_ticks - prev.uptime_ticks) / 100
    if advanced < 0:
        advanced += TIMETICKS_MODULUS / 100
        if advanced > interval * (1 + tolerance) + slack_s:
            return True
    return advanced < lowest


def measure(
    prev: CounterReading,
    cur: CounterReading,
    *,
    max_bps: float | None = None,
    scale: float = 8.0,
    uptime_tolerance: float = UPTIME_TOLERANCE,
    uptime_slack_s: float = UPTIME_SLACK_S,
) -> Rate | Gap:
    """The rate between two readings of one counter, or the :class:`Gap` explaining why there is none.

    ``scale`` converts counter units to the rate's unit (8: octets → bit/s). ``max_bps`` is the capacity in
    the rate's unit; zero or None means unknown (no plausibility checks against it).
    """
    interval = cur.at - prev.at
    if interval <= 0:
        return Gap(Reason.NO_TIME_ELAPSED, interval)
    if cur.kind is not prev.kind:
        return Gap(Reason.KIND_CHANGED, interval)
    if agent_restarted(prev, cur, tolerance=uptime_tolerance, slack_s=uptime_slack_s):
        return Gap(Reason.AGENT_RESTART, interval)
    capacity = max_bps if max_bps is not None and max_bps > 0 else None
    delta = cur.value - prev.value
    if delta < 0:
        if cur.kind is Counter64:
            return Gap(Reason.COUNTER_RESET, interval)
        delta += COUNTER_MODULUS[Counter32]
        if capacity is not None and delta * scale / interval > capacity:
            return Gap(Reason.IMPLAUSIBLE_WRAP, interval)
    bps = delta * scale / interval
    if capacity is not None:
        if bps > capacity:
            return Rate(bps, interval, False, Reason.ABOVE_CAPACITY)
        if cur.kind is Counter32 and capacity * interval / scale >= COUNTER_MODULUS[Counter32]:
            return Rate(bps, interval, False, Reason.AMBIGUOUS_WRAP)
    return Rate(bps, interval, True)


def rate(prev: CounterReading, cur: CounterReading, *, max_bps: float | None = None, scale: float = 8.0) -> Rate | None:
    """The rate between two readings, or None for a discontinuity (see :func:`measure` for the reason)."""
    result = measure(prev, cur, max_bps=max_bps, scale=scale)
    return result if isinstance(result, Rate) else None


class RateKey(NamedTuple):
    """What a tracked counter belongs to: device, row index (e.g. ifIndex) and counter (e.g. ``in_bps``)."""

    device: str
    row: str
    counter: str


class RateTracker:
    """Keeps the last reading of each counter and turns each new reading into a :class:`Rate` or :class:`Gap`.

    Not thread-safe; one tracker per poller (or per shard of devices).
    """

    def __init__(
        self,
        *,
        scale: float = 8.0,
        uptime_tolerance: float = UPTIME_TOLERANCE,
        uptime_slack_s: float = UPTIME_SLACK_S,
    ) -> None:
        self._scale = scale
        self._tolerance = uptime_tolerance
        self._slack = uptime_slack_s
        self._last: dict[RateKey, CounterReading] = {}

    def update(
        self, key: RateKey, reading: CounterReading, *, max_bps: float | None = None, scale: float | None = None
    ) -> Rate | Gap:
        """Record ``reading`` and return the rate since the previous one (a Gap on the first reading).

        A reading not newer than the stored one is ignored (Gap ``no time elapsed``); after any other Gap
        the new reading becomes the baseline, so a restart costs exactly one interval.
        """
        prev = self._last.get(key)
        if prev is not None and reading.at <= prev.at:
            return Gap(Reason.NO_TIME_ELAPSED, reading.at - prev.at)
        self._last[key] = reading
        if prev is None:
            return Gap(Reason.FIRST_READING, 0.0)
        return measure(
            prev,
            reading,
            max_bps=max_bps,
            scale=self._scale if scale is None else scale,
            uptime_tolerance=self._tolerance,
            uptime_slack_s=self._slack,
        )

    def forget(self, device: str) -> int:
        """Drop every counter of ``device`` (e.g. removed from inventory); returns how many were dropped."""
        keys = [k for k in self._last if k.device == device]
        for k in keys:
            del self._last[k]
        return len(keys)

    def prune(self, older_than: float) -> int:
        """Drop counters last read before ``older_than`` (Unix seconds); returns how many were dropped."""
        keys = [k for k, r in self._last.items() if r.at < older_than]
        for k in keys:
            del self._last[k]
        return len(keys)

    def __len__(self) -> int:
        return len(self._last)
