"""Polling one device by its profile: GETs, walks, decoding into samples. Knows nothing of subscribers: a
target is a name, a profile and an address with credentials (the caller's own ids ride along in ``kind``/``id``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from collectors.samples import Sample
from collectors.snmp.auth import Target
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.errors import (
    SnmpAuthError,
    SnmpDeadlineError,
    SnmpError,
    SnmpLimitError,
    SnmpMalformedResponse,
    SnmpTimeout,
)
from collectors.snmp.profiles import InvalidReading, PollLimits, Profile, ProfileError, decode, load_profile
from collectors.snmp.values import Value

log = logging.getLogger("collectors.poll")


@dataclass(frozen=True)
class PollTarget:
    """One device to poll: the caller's identity for it (``kind``, ``id``, ``name``), its profile and address."""

    kind: str
    id: int
    name: str
    profile: str
    target: Target
    limits: PollLimits | None = None
    """The device's overrides of its profile's row cap and poll deadline."""


@dataclass
class PollOutcome:
    """One poll's result: samples, or the error (never containing a secret), and how long it took."""

    target: PollTarget
    at: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""
    invalid: tuple[InvalidReading, ...] = ()
    """Objects the device answered outside their type's range (left out of ``samples``)."""

    @property
    def ok(self) -> bool:
        """True when the device answered."""
        return not self.error


@lru_cache(maxsize=64)
def profile(name: str) -> Profile:
    """A device profile, loaded once."""
    return load_profile(name)


DEFAULT_REPETITIONS = 25
"""max-repetitions of a walk whose table size is not known yet."""
MAX_REPETITIONS = 48
"""Upper bound of a sized walk's max-repetitions (48 short varbinds stay well under a 1,500-byte MTU)."""
_ROWS_SEEN: dict[tuple[str, int], int] = {}
"""Most rows any device gave per (profile name, table of ``walk_plan``): the size hint of a first walk."""


def walk_plan(prof: Profile) -> tuple[tuple[str, ...], ...]:
    """The profile's first-pass walk roots grouped by table, in ``primary_walk_roots`` order."""
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for table in prof.tables:
        roots = tuple(c.oid for c in table.columns if c.readable and c.fallback_for is None)
        if roots:
            groups.append(roots)
            seen.update(roots)
    rest = tuple(r for r in prof.primary_walk_roots if r not in seen)
    return (*groups, *((r,) for r in rest))


async def read_raw(client: SnmpClient, target: PollTarget, prof: Profile) -> dict[str, Value]:
    """Everything ``prof`` asks of the device: scalars by GET, tables by walk, fallbacks only when needed.

    Walks ask for as many repetitions as the table has rows, plus one to see the column end: the rows of
    the table's column walked before, else the most rows any device gave for that table, else 25. The
    results are the same as with a fixed max-repetitions (a walk goes on while its column does), but the
    agent encodes and the client decodes far fewer varbinds past the column's end.
    """
    results: dict[str, Value] = {}
    deadline = time.monotonic() + prof.deadline_s(target.limits)
    if prof.get_oids:
        results.update(await client.get(target.target, prof.get_oids, deadline=deadline))
    for n, roots in enumerate(walk_plan(prof)):
        key = (prof.name, n)
        hint = _ROWS_SEEN.get(key, 0)
        rows = 0
        for root in roots:
            known = rows or hint
            reps = min(known + 1, MAX_REPETITIONS) if known else DEFAULT_REPETITIONS
            table, cap = prof.walk_limit(root, target.limits)
            column = await client.walk(target.target, root, max_repetitions=reps, max_rows=cap, table=table,
                                       deadline=deadline)
            rows = max(rows, len(column))
            results.update(column)
        if rows > hint:
            _ROWS_SEEN[key] = rows
    for root in prof.needed_fallback_roots(results):
        table, cap = prof.walk_limit(root, target.limits)
        results.update(await client.walk(target.target, root, max_rows=cap, table=table, deadline=deadline))
    return results


async def poll(client: SnmpClient, target: PollTarget, tracker: RateTracker | None,
               capacity_bps: Mapping[str, float] | None = None) -> PollOutcome:
    """Poll ``target`` once; it never raises: any failure becomes the outcome's error and ``error_kind``
    (``deadline``, ``limit``, ``malformed``, ``timeout``, ``auth``, ``snmp``, ``profile`` or ``internal``).

    ``capacity_bps`` (ifIndex as text → bit/s) replaces interfaces' own speed when rates are checked.
    Values outside their type's range are left out of the samples and listed in ``invalid``.
    """
    started, at = time.perf_counter(), time.time()
    try:
        prof = profile(target.profile)
        raw = await read_raw(client, target, prof)
        samples = decode(prof, target.name, raw, at, rates=tracker, capacity_bps=capacity_bps)
    except Exception as exc:  # one device's failure must never cost the others their outcomes
        kind = next((name for error, name in ERROR_KINDS if isinstance(exc, error)), "internal")
        if kind == "internal":
            log.exception("%s: poll failed unexpectedly", target.name)
        message = str(exc) if kind != "internal" else f"internal error: {exc.__class__.__name__}"
        return PollOutcome(target, at, time.perf_counter() - started, error=message, error_kind=kind)
    duration = time.perf_counter() - started
    samples.append(Sample("poll", (("device", target.name),),
                          {"duration_s": round(duration, 4), "ok": True, "invalid_readings": len(samples.invalid)},
                          int(at)))
    return PollOutcome(target, at, duration, list(samples), invalid=samples.invalid)


ERROR_KINDS: tuple[tuple[type[Exception], str], ...] = (
    (SnmpDeadlineError, "deadline"), (SnmpLimitError, "limit"), (SnmpMalformedResponse, "malformed"),
    (SnmpTimeout, "timeout"), (SnmpAuthError, "auth"), (SnmpError, "snmp"), (ProfileError, "profile"),
)
"""A poll's error kind by exception type, the most specific first."""
