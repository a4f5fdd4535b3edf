"""Counter state shared by every worker: a rate tracker whose previous readings live in one Redis hash per
device, with the agent's sysUpTime, so that a target polled by another worker next time still gets a rate
(and an agent restart in between still gives none: the restart gate compares the stored uptime)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from collectors.snmp.counters import CounterReading, RateKey, RateTracker
from collectors.snmp.values import Counter32, Counter64
from noc.scaleout.state import Keys

KINDS: dict[str, type[int]] = {"c32": Counter32, "c64": Counter64}
NAMES = {kind: name for name, kind in KINDS.items()}
SEP = "\x1f"
STATE_TTL_S = 7 * 86_400
"""A device not polled for this long starts again from a first reading."""


def encode(reading: CounterReading) -> str:
    """A reading as stored in Redis: ``value kind uptime at`` (uptime empty when unknown)."""
    uptime = "" if reading.uptime_ticks is None else str(reading.uptime_ticks)
    return f"{reading.value} {NAMES[reading.kind]} {uptime} {reading.at!r}"


def decode(text: str) -> CounterReading:
    """The reading :func:`encode` stored."""
    value, kind, uptime, at = text.split(" ")
    return CounterReading(int(value), KINDS[kind], int(uptime) if uptime else None, float(at))


class SharedRates(RateTracker):
    """A :class:`RateTracker` for one batch: :meth:`load` its devices' readings, poll, :meth:`save` them."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__()
        self.redis, self.prefix = client, prefix

    def _key(self, device: str) -> str:
        return Keys(self.prefix).counters(device)

    def load(self, devices: Iterable[str]) -> None:
        """Read the previous readings of ``devices`` (one round trip)."""
        names = list(devices)
        pipe = self.redis.pipeline(transaction=False)
        for device in names:
            pipe.hgetall(self._key(device))
        for device, stored in zip(names, pipe.execute(), strict=True):
            for field, value in stored.items():
                row, counter = field.decode().split(SEP)
                self._last[RateKey(device, row, counter)] = decode(value.decode())

    def save(self) -> None:
        """Write back every reading this tracker holds (one round trip)."""
        by_device: dict[str, dict[Any, Any]] = {}
        for key, reading in self._last.items():
            by_device.setdefault(key.device, {})[f"{key.row}{SEP}{key.counter}"] = encode(reading)
        pipe = self.redis.pipeline(transaction=False)
        for device, mapping in by_device.items():
            pipe.hset(self._key(device), mapping=mapping)
            pipe.expire(self._key(device), STATE_TTL_S)
        pipe.execute()
