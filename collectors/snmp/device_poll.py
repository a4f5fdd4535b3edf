"""Polling one device by its profile: GETs, walks, decoding into samples. Knows nothing of subscribers: a
target is a name, a profile and an address with credentials (the caller's own ids ride along in ``kind``/``id``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
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
from collectors.snmp.profiles import (
    InvalidReading,
    PollLimits,
    Profile,
    ProfileError,
    Rows,
    TablePlan,
    decode,
    load_profile,
)
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


DEFAULT_ROWS = 24
"""Rows expected of a table before any device of its profile was walked (and ifNumber is not known)."""
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
"""ifNumber: read with the scalars until the profile's tables have been walked once, as their first size hint."""
_ROWS_SEEN: dict[str, tuple[int, ...]] = {}
"""Rows per ``column_plan`` table of the newest poll of each profile: the hint for a device seen first."""
_DEVICES: dict[tuple[str, str], tuple[tuple[int, ...], tuple[int, ...]]] = {}
"""What each device's previous poll showed (profile, device name): rows per ``column_plan`` table, and the
tables whose fallback columns it needed (walked in the first pass from then on)."""
_DEVICES_MAX = 1_000_000
_SHAPES: dict[tuple[int, ...], tuple[int, ...]] = {}
"""One tuple per distinct shape, shared by the devices that have it (devices of one model look alike)."""


REQUEST_COST = 24
"""What one more request costs both ends, counted in varbinds of an answer (a datagram each way, a timer, matching
the answer, against encoding and decoding one varbind): :func:`pack` weighs fewer requests against the varbinds
past shorter columns' ends that sharing a request costs."""


@lru_cache(maxsize=4096)
def _packed(plans: tuple[TablePlan, ...], rows: tuple[int, ...], budget: int) -> list[tuple[list[int], int]]:
    """:func:`pack`, remembered: devices of one model share their tables' shapes."""
    return pack(plans, rows, budget)


def pack(plans: Sequence[TablePlan], rows: Sequence[int], budget: int) -> list[tuple[list[int], int]]:
    """Column sets grouped into GETBULK requests: (numbers in ``plans``, max-repetitions) per request.

    Every column of a request gets that request's max-repetitions, the most rows of its sets plus one (so each
    column sees its end in that one answer): a short table sharing a request with a long one pays for the
    long one's rows in varbinds past its end. The sets, smallest first, are cut into the runs that cost least
    in all (``REQUEST_COST`` per request plus the varbinds asked for), each within ``budget`` varbinds. A set
    too wide for the budget alone gets a request of its own with as many repetitions as fit (its walk then takes
    more requests)."""
    order = sorted(range(len(plans)), key=lambda i: rows[i])
    width = [len(plans[i].roots) for i in order]
    want = [rows[i] + 1 for i in order]
    best = [0] + [-1] * len(order)  # best[j]: least cost of the first j sets; cut[j]: where its last run starts
    cut = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        columns = 0
        for i in range(j - 1, -1, -1):
            columns += width[i]
            if columns * want[j - 1] > budget and i < j - 1:
                break
            cost = best[i] + REQUEST_COST + columns * want[j - 1]
            if best[j] < 0 or cost < best[j]:
                best[j], cut[j] = cost, i
    groups: list[tuple[list[int], int]] = []
    j = len(order)
    while j:
        i = cut[j]
        members = order[i:j]
        groups.append((members, max(1, min(want[j - 1], budget // max(1, sum(width[i:j]))))))
        j = i
    return groups[::-1]


def _shape(values: Iterable[int]) -> tuple[int, ...]:
    key = tuple(values)
    return _SHAPES.setdefault(key, key)


async def _walk_sets(client: SnmpClient, target: PollTarget, plans: Sequence[TablePlan], rows: Sequence[int],
                     budget: int, deadline: float, results: dict[str, Value],
                     scalars: Sequence[str] = ()) -> list[int]:
    """Walk the column sets ``plans`` packed into requests (:func:`pack`); the rows each set gave. ``scalars``
    (instances ending in .0) are read with the first request."""
    cap = target.limits.max_rows if target.limits is not None else None
    found = [0] * len(plans)
    for members, reps in _packed(tuple(plans), tuple(rows), budget):
        sets = [plans[i] for i in members]
        columns = await client.walk_columns(
            target.target, [r for p in sets for r in p.roots], max_repetitions=reps, deadline=deadline,
            max_rows=[p.max_rows if cap is None else cap for p in sets for _ in p.roots],
            tables=[p.name for p in sets for _ in p.roots], scalars=scalars)
        if scalars:
            results.update(columns.pop())
            scalars = ()
        k = 0
        for i, p in zip(members, sets, strict=True):
            for column in columns[k:k + len(p.roots)]:
                found[i] = max(found[i], len(column))
                results.update(column)
            k += len(p.roots)
    return found


async def read_raw(client: SnmpClient, target: PollTarget, prof: Profile) -> dict[str, Value]:
    """Everything ``prof`` asks of the device (:func:`read`), OID → value."""
    return (await read(client, target, prof))[0]


async def read(client: SnmpClient, target: PollTarget, prof: Profile) -> tuple[dict[str, Value], Rows | None]:
    """Everything ``prof`` asks of the device: scalars with the first GETBULK (by GET on a profile's first poll),
    tables by multi-column walks, fallbacks only when needed.

    All columns go out in a few GETBULKs (:meth:`SnmpClient.walk_columns`, packed by :func:`pack`) sized by the
    rows each table is expected to have: the device's own previous poll, else the newest poll of any device of
    its profile, else ifNumber (read with the scalars on a profile's very first poll). Fallback columns are
    walked after the first pass when some row needs them, and with it from then on for that device (once all of
    a device's fallbacks are walked with the first pass, the check is skipped). A DOCSIS 3.0
    modem with 32 downstream and 8 upstream channels takes three GETBULKs. The results are those of
    walking each column alone; the sizing only saves requests and the varbinds past the columns' ends.
    Returns them (OID → value) and, when the fallback check grouped them and nothing was walked after it, their
    :meth:`Profile.rows` (for :func:`decode`).
    """
    grouped: Rows | None = None
    results: dict[str, Value] = {}
    deadline = time.monotonic() + prof.deadline_s(target.limits)
    plan, fallback_plan = prof.column_plan, prof.fallback_plan
    device_key = (prof.name, target.name)
    known = _DEVICES.get(device_key)
    hint, with_fallbacks = known if known is not None else (_ROWS_SEEN.get(prof.name), ())
    if hint is not None and len(hint) != len(plan):  # another profile of that name (an operator's own file)
        hint, with_fallbacks = None, ()
    oids, along = prof.get_oids, tuple[str, ...]()
    if hint is None and plan:
        oids = (*oids, IF_NUMBER)
    elif plan:  # the sizes are known: the scalars go with the first GETBULK (as its non-repeaters)
        along = tuple(o for o in oids if o.endswith(".0"))
        oids = tuple(o for o in oids if not o.endswith(".0"))
    if oids:
        results.update(await client.get(target.target, oids, deadline=deadline))
    if hint is None:
        guess = results.pop(IF_NUMBER, None)
        size = guess if isinstance(guess, int) and 0 < guess <= prof.bulk_varbinds else DEFAULT_ROWS
        hint = (size,) * len(plan)
    sets = [*plan, *(fallback_plan[i] for i in with_fallbacks)]
    found = await _walk_sets(client, target, sets, [*hint, *(hint[i] for i in with_fallbacks)],
                             prof.bulk_varbinds, deadline, results, along)
    rows = found[:len(plan)]
    if len(with_fallbacks) < sum(1 for p in fallback_plan if p.roots):  # else every fallback was walked already
        walked = {r for p in sets for r in p.roots}
        grouped = prof.rows(results)
        needed = set(prof.needed_fallback_roots(results, grouped))
        if missing := needed - walked:
            grouped = None
            more = [i for i, p in enumerate(fallback_plan) if missing.intersection(p.roots)]
            await _walk_sets(client, target, [fallback_plan[i] for i in more], [rows[i] for i in more],
                             prof.bulk_varbinds, deadline, results)
        with_fallbacks = _shape(i for i, p in enumerate(fallback_plan) if needed.intersection(p.roots))
    seen = _shape(rows)
    _ROWS_SEEN[prof.name] = seen
    if len(_DEVICES) >= _DEVICES_MAX:
        _DEVICES.clear()
        _SHAPES.clear()
    _DEVICES[device_key] = (seen, with_fallbacks)
    return results, grouped


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
        raw, rows = await read(client, target, prof)
        samples = decode(prof, target.name, raw, at, rates=tracker, capacity_bps=capacity_bps, rows=rows)
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
