"""Traffic shapes: utilization (0..1 of an interface's speed) over simulated time, each with an exact integral so
octet counters are a closed-form, deterministic, monotonic function of time.

A shape is a sum of terms: the daily curve (busy hour 20:00-22:00), a linear ramp ("climb"), a constant, and
noise made of three slow sinusoids. Counters advance in real time at the utilization of the current simulated
time, so a poller measuring real-time rates sees real-looking percentages while the day plays ``speed`` times
faster (see ``OctetCounter``).
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from collectors.sim.clock import DAY, Moment, Timeline

HOUR = 3600.0

DAILY_CURVE: tuple[float, ...] = (
    0.62, 0.45, 0.32, 0.24, 0.20, 0.20, 0.24, 0.32, 0.40, 0.46, 0.50, 0.53,
    0.56, 0.57, 0.58, 0.60, 0.64, 0.70, 0.78, 0.87, 0.96, 1.00, 0.97, 0.82,
)
"""Residential demand by local hour as a fraction of the busy-hour peak (linear between hours): trough at
04:00-05:00, busy hour 20:00-22:00 (RFC 6057 practice and operators' published curves)."""

NOISE_PERIODS = (331.0, 797.0, 1523.0)
"""Simulated seconds of the three noise sinusoids (about 5, 13 and 25 minutes)."""


class Term(ABC):
    """One additive part of a utilization curve."""

    @abstractmethod
    def value(self, s: float) -> float:
        """The term at simulated second ``s``."""

    @abstractmethod
    def integral(self, s: float) -> float:
        """∫₀ˢ value(x) dx."""


@dataclass(frozen=True)
class Constant(Term):
    level: float

    def value(self, s: float) -> float:
        return self.level

    def integral(self, s: float) -> float:
        return self.level * s


class Daily(Term):
    """``peak`` × ``DAILY_CURVE`` at the simulated local time ``start_tod + s`` (shifted by ``shift_hours``)."""

    def __init__(self, peak: float, start_tod: float, shift_hours: float = 0.0,
                 curve: Sequence[float] = DAILY_CURVE) -> None:
        self.peak = peak
        self.curve = tuple(curve)
        self.hours = len(self.curve)
        self.step = DAY / self.hours
        self.origin = (start_tod - shift_hours * HOUR) % DAY
        prefix = [0.0]
        for i in range(self.hours):
            a, b = self.curve[i], self.curve[(i + 1) % self.hours]
            prefix.append(prefix[-1] + (a + b) / 2 * self.step)
        self.prefix = prefix
        self.base = self._cumulative(self.origin)

    def _cumulative(self, x: float) -> float:
        days, rest = divmod(x, DAY)
        k = min(int(rest // self.step), self.hours - 1)
        u = rest - k * self.step
        a, b = self.curve[k], self.curve[(k + 1) % self.hours]
        return days * self.prefix[-1] + self.prefix[k] + a * u + (b - a) * u * u / (2 * self.step)

    def value(self, s: float) -> float:
        rest = (self.origin + s) % DAY
        k = min(int(rest // self.step), self.hours - 1)
        a, b = self.curve[k], self.curve[(k + 1) % self.hours]
        return self.peak * (a + (b - a) * (rest - k * self.step) / self.step)

    def integral(self, s: float) -> float:
        return self.peak * (self._cumulative(self.origin + s) - self.base)


@dataclass(frozen=True)
class Ramp(Term):
    """From ``start`` at s=0 linearly to ``end`` at s=``duration``, then flat."""

    start: float
    end: float
    duration: float

    def value(self, s: float) -> float:
        if s >= self.duration:
            return self.end
        return self.start + (self.end - self.start) * max(s, 0.0) / self.duration

    def integral(self, s: float) -> float:
        d = min(s, self.duration)
        ramp = self.start * d + (self.end - self.start) * d * d / (2 * self.duration)
        return ramp + self.end * max(s - self.duration, 0.0)


class Noise(Term):
    """``amplitude`` × the mean of three sinusoids with seeded phases (so it stays within ±amplitude)."""

    def __init__(self, amplitude: float, seed: int | str, periods: Sequence[float] = NOISE_PERIODS) -> None:
        rng = random.Random(seed)
        self.amplitude = amplitude
        self.waves = [(2 * math.pi / p, rng.uniform(0, 2 * math.pi)) for p in periods]

    def value(self, s: float) -> float:
        return self.amplitude * sum(math.sin(w * s + phi) for w, phi in self.waves) / len(self.waves)

    def integral(self, s: float) -> float:
        total = sum((math.cos(phi) - math.cos(w * s + phi)) / w for w, phi in self.waves)
        return self.amplitude * total / len(self.waves)


@dataclass(frozen=True)
class Shape:
    """A utilization curve: the sum of its terms, in simulated seconds since the network started."""

    terms: tuple[Term, ...]

    def util(self, s: float) -> float:
        return sum(t.value(s) for t in self.terms)

    def integral(self, s: float) -> float:
        return sum(t.integral(s) for t in self.terms)

    def mean(self, a: float, b: float) -> float:
        """Average utilization between simulated seconds ``a`` and ``b``."""
        return (self.integral(b) - self.integral(a)) / (b - a)


def daily(peak: float, noise: float, timeline: Timeline, seed: int | str, shift_hours: float = 0.0) -> Shape:
    return Shape((Daily(peak, timeline.start_tod, shift_hours), Noise(noise * peak, seed)))


def climb(start: float, peak: float, ramp_seconds: float, noise: float, seed: int | str) -> Shape:
    return Shape((Ramp(start, peak, ramp_seconds), Noise(noise * peak, seed)))


def flat(level: float, noise: float, seed: int | str) -> Shape:
    return Shape((Constant(level), Noise(noise * level, seed)))


class OctetCounter:
    """Octets through one interface direction since the agent's boot: speed × ∫ utilization, in real time.

    With acceleration ``k``, a real second covers ``k`` simulated seconds, so octets(t) = bps/8 × ∫util(s) ds / k:
    the real-time rate equals the utilization at the current simulated time. ``initial`` is added before the
    first restart (traffic the agent had counted before the network started).
    """

    __slots__ = ("_boot_cache", "_last", "bytes_per_s", "initial", "shape", "speed")

    def __init__(self, bits_per_s: float, shape: Shape, timeline: Timeline, initial: int = 0) -> None:
        self.bytes_per_s = bits_per_s / 8
        self.shape = shape
        self.speed = timeline.speed
        self.initial = initial
        self._boot_cache: tuple[float, float] = (0.0, 0.0)
        self._last: tuple[int, int] = (0, 0)

    def octets(self, m: Moment) -> int:
        boot_s = m.boot * self.speed
        if self._boot_cache[0] != boot_s:
            self._boot_cache = (boot_s, self.shape.integral(boot_s))
        area = self.shape.integral(m.elapsed * self.speed) - self._boot_cache[1]
        value = int(self.bytes_per_s * area / self.speed) + (self.initial if m.epoch == 0 else 0)
        epoch, last = self._last
        if epoch == m.epoch and value < last:  # guard against float rounding; the integral never decreases
            value = last
        self._last = (m.epoch, value)
        return value

    def rate_bps(self, m: Moment) -> float:
        """The instantaneous rate in bit/s (for tests and the inventory export)."""
        return self.bytes_per_s * 8 * self.shape.util(m.elapsed * self.speed)
