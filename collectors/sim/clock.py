"""Time in the simulation: a real (or manual) clock, the accelerated timeline traffic shapes follow, and the
per-request ``Moment`` every dynamic value is computed from."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

DAY = 86400.0


class Clock(Protocol):
    """Real seconds since the network started."""

    def elapsed(self) -> float: ...


class RealClock:
    """The monotonic clock, zero at construction."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._origin


class ManualClock:
    """A clock tests move by hand (``advance``), for exact, sleep-free checks of counters and restarts."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def elapsed(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds


@dataclass(frozen=True, slots=True)
class Timeline:
    """Simulated time: ``speed`` simulated seconds pass per real second, starting at local ``start_tod``."""

    speed: float = 1.0
    start_tod: float = 0.0
    """Seconds after local midnight at which the simulated day starts (e.g. 19:30 → 70200)."""

    def sim(self, elapsed: float) -> float:
        """Simulated seconds since the start."""
        return elapsed * self.speed

    def time_of_day(self, elapsed: float) -> float:
        """Simulated local seconds after midnight."""
        return (self.start_tod + elapsed * self.speed) % DAY


def parse_start(start: str | None, now: datetime | None = None) -> float:
    """``None``/``"now"`` → the current local time of day; ``"HH:MM[:SS]"`` or an ISO datetime → its time of day."""
    if start is None or start == "now":
        moment = now or datetime.now()
        return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    if "T" in start or "-" in start:
        moment = datetime.fromisoformat(start)
        return moment.hour * 3600 + moment.minute * 60 + moment.second
    parts = [int(p) for p in start.split(":")]
    if not 2 <= len(parts) <= 3 or not 0 <= parts[0] < 24 or not all(0 <= p < 60 for p in parts[1:]):
        raise ValueError(f"start must be HH:MM[:SS], an ISO datetime or 'now', not {start!r}")
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0)


@dataclass(slots=True)
class Moment:
    """One agent's view of 'now', computed once per request so all values in a response agree."""

    elapsed: float
    """Real seconds since the network started."""
    boot: float
    """``elapsed`` at the agent's last restart (0 before the first one)."""
    epoch: int
    """Restarts so far."""
    uptime: float
    """Real seconds since the agent booted (including any uptime it had when the network started)."""
