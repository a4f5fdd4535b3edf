"""Polling one device by its profile: GETs, walks, decoding into samples. Knows nothing of subscribers: a
target is a name, a profile and an address with credentials (the caller's own ids ride along in ``kind``/``id``).
"""

from __future__ import annotations

import logging
import time
import zlib
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
FULL_WALK_EVERY = 12
"""Polls of a device that read its filtered tables by their kept rows, at most, before one walks them whole again
(an hour at five-minute cycles): a row that comes to pass a filter without ifNumber changing shows up by then."""


@dataclass(frozen=True, slots=True)
class _Seen:
    """What a device's previous poll showed."""

    rows: tuple[int, ...]
    """Rows per ``column_plan`` table (as walked whole last)."""
    with_fallbacks: tuple[int, ...]
    """The tables whose fallback columns it needed (walked in the first pass from then on)."""
    kept: tuple[tuple[str, ...] | None, ...]
    """Per table with a filter, the indices of the rows that passed it (:meth:`Profile.kept_rows`)."""
    if_number: object
    """ifNumber as read then (None: not read or not answered)."""
    polls: int
    """Polls since the filtered tables were last walked whole."""


_DEVICES: dict[tuple[str, str], _Seen] = {}
"""What each device's previous poll showed, by (profile, device name)."""
_KEPT_SEEN: dict[str, _Seen] = {}
"""Per profile, the newest poll that walked its filtered tables whole: a device polled first is read by the rows
that device kept (devices of one model number their interfaces alike; ifNumber and the kept rows' filter column
are checked), and walked whole within ``FULL_WALK_EVERY`` polls, at a poll its name picks: a fleet's whole walks
spread over the cycles, not all in one."""
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
    a device's fallbacks are walked with the first pass, the check is skipped). A table with a row filter (a
    modem's interfaces: its MAC and OFDM ones of dozens) is read by the indices of the rows the filter kept at
    the device's previous poll, along with the scalars and ifNumber (:func:`_read_by_row`), until ifNumber or a
    kept row changes (that poll then walks it whole) or ``FULL_WALK_EVERY`` polls did so. A DOCSIS 3.0 modem with
    32 downstream and 8 upstream channels takes three GETBULKs. The samples are those of walking each column
    alone; the sizing only saves requests and varbinds. Returns the results (OID → value; ifNumber left out)
    and, when grouped and nothing was walked after, their :meth:`Profile.rows` (for :func:`decode`).
    """
    results: dict[str, Value] = {}
    deadline = time.monotonic() + prof.deadline_s(target.limits)
    plan, fallback_plan = prof.column_plan, prof.fallback_plan
    device_key = (prof.name, target.name)
    known = _DEVICES.get(device_key)
    if known is not None and len(known.rows) != len(plan):  # another profile of that name (an operator's own file)
        known = None
    hint, with_fallbacks = (known.rows, known.with_fallbacks) if known else (_ROWS_SEEN.get(prof.name), ())
    if hint is not None and len(hint) != len(plan):
        hint = None
    oids, along = prof.get_oids, tuple[str, ...]()
    if hint is None and plan:
        oids = (*oids, IF_NUMBER)
    elif plan:  # the sizes are known: the scalars go with the first GETBULK (as its non-repeaters)
        along = tuple(o for o in oids if o.endswith(".0")) + ((IF_NUMBER,) if prof.filtered else ())
        oids = tuple(o for o in oids if not o.endswith(".0"))
    if oids:
        results.update(await client.get(target.target, oids, deadline=deadline))
    if hint is None:
        guess = results.get(IF_NUMBER)
        size = guess if isinstance(guess, int) and 0 < guess <= prof.bulk_varbinds else DEFAULT_ROWS
        hint = (size,) * len(plan)
    basis = known
    if basis is None and (seed := _KEPT_SEEN.get(prof.name)) is not None and len(seed.kept) == len(plan):
        basis = _Seen(hint, (), seed.kept, seed.if_number, zlib.crc32(target.name.encode()) % FULL_WALK_EVERY)
    by_row = _read_by_row(prof, basis)
    along += tuple(oid for instances in by_row.values() for oid in instances)
    rows = list(hint)
    await _walk_tables(client, target, prof, [i for i in range(len(plan)) if i not in by_row], with_fallbacks, rows,
                       deadline, results, along)
    if_number = results.pop(IF_NUMBER, None)
    grouped = prof.rows(results) if by_row or prof.filtered else None
    kept = prof.kept_rows(grouped) if grouped is not None else ()
    # a kept row gone or no longer passing, or interfaces added or removed: walk the table whole now
    if stale := [i for i in by_row if basis is not None and (kept[i] != basis.kept[i] or if_number != basis.if_number)]:
        await _walk_tables(client, target, prof, stale, with_fallbacks, rows, deadline, results, ())
        grouped = prof.rows(results)
        kept = prof.kept_rows(grouped)
    if len(with_fallbacks) < sum(1 for p in fallback_plan if p.roots):  # else every fallback was walked already
        walked = {r for p in plan for r in p.roots} | {r for i in with_fallbacks for r in fallback_plan[i].roots}
        grouped = grouped if grouped is not None else prof.rows(results)
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
    whole = not by_row or len(stale) == len(by_row)
    polls = basis.polls + 1 if basis is not None and not whole else 0
    _DEVICES[device_key] = now = _Seen(seen, with_fallbacks, kept, if_number, polls)
    if whole and any(kept):
        _KEPT_SEEN[prof.name] = now
    return results, grouped


def _read_by_row(prof: Profile, basis: _Seen | None) -> dict[int, tuple[str, ...]]:
    """The filtered tables a poll reads by their kept rows, not walked (table number → instance OIDs): those
    ``basis`` (the device's previous poll, or its profile's seed) kept some rows of, until ``FULL_WALK_EVERY``
    polls did so."""
    if basis is None or basis.polls + 1 >= FULL_WALK_EVERY:
        return {}
    plan, fallback_plan = prof.column_plan, prof.fallback_plan
    out: dict[int, tuple[str, ...]] = {}
    for i, indices in enumerate(basis.kept):
        if indices:
            roots = (*plan[i].roots, *(fallback_plan[i].roots if i in basis.with_fallbacks else ()))
            out[i] = tuple(f"{root}.{index}" for root in roots for index in indices)
    return out


async def _walk_tables(client: SnmpClient, target: PollTarget, prof: Profile, tables: Sequence[int],
                       with_fallbacks: Sequence[int], rows: list[int], deadline: float, results: dict[str, Value],
                       along: Sequence[str]) -> None:
    """Walk the ``column_plan`` tables numbered ``tables`` whole (with their fallback columns where
    ``with_fallbacks`` says so), reading the instances ``along`` with the first request; sets ``rows`` of each."""
    if not tables:  # every table read by row: the instances alone
        if along:
            results.update(await client.get(target.target, along, deadline=deadline))
        return
    plan, fallback_plan = prof.column_plan, prof.fallback_plan
    extra = [i for i in with_fallbacks if i in tables]
    found = await _walk_sets(client, target, [*(plan[i] for i in tables), *(fallback_plan[i] for i in extra)],
                             [*(rows[i] for i in tables), *(rows[i] for i in extra)], prof.bulk_varbinds, deadline,
                             results, along)
    for i, n in zip(tables, found, strict=False):
        rows[i] = n


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
