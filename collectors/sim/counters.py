"""Event counters whose rate can change at run time (codewords, timeouts) and still never go backwards."""

from __future__ import annotations

from collectors.sim.clock import Moment


class RateCounter:
    """``initial`` + ``rate`` × real seconds, piecewise: ``set_rate`` rebases at the given moment; a restart of
    the agent (new epoch) starts again from zero at boot."""

    __slots__ = ("_base", "_epoch", "_t0", "rate")

    def __init__(self, rate: float, initial: float = 0.0) -> None:
        self.rate = rate
        self._epoch = 0
        self._t0 = 0.0
        self._base = initial

    def _roll(self, m: Moment) -> None:
        if m.epoch != self._epoch:
            self._epoch, self._t0, self._base = m.epoch, m.boot, 0.0

    def value(self, m: Moment) -> int:
        self._roll(m)
        return int(self._base + self.rate * max(m.elapsed - self._t0, 0.0))

    def set_rate(self, m: Moment, rate: float) -> None:
        self._roll(m)
        self._base += self.rate * max(m.elapsed - self._t0, 0.0)
        self._t0 = m.elapsed
        self.rate = rate
