"""Device profiles as data: which SNMP objects to read for a device model and how they become Samples.

A profile is a YAML file (``collectors/snmp/profiles/<name>.yaml`` or one in an operator's own directory)
declaring scalars to GET and table columns to walk, with SMI types, scaling, enums, row indexes, row filters
and fallbacks; ``extends:`` inherits another profile. Adding a device model means adding a file, not code.
The format is described in ``docs/profiles.md``.

Typical use by a poller::

    profile = load_profile("docsis-cm")
    results = await client.get(target, profile.get_oids)
    for root in profile.walk_roots:
        results |= await client.walk(target, root)
    samples = decode(profile, "cm-0001", results, time.time(), rates=tracker)
    samples.invalid  # objects answered out of range or with the wrong type, left out of the samples
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from collectors.samples import FieldValue, Sample
from collectors.snmp.ber import OidCache
from collectors.snmp.counters import CounterReading, Rate, RateKey, RateTracker
from collectors.snmp.values import Counter32, Counter64, Invalid, Value
from collectors.strict_yaml import ConfigError, StrictModel, read_yaml, validate_model

log = logging.getLogger(__name__)

PROFILE_DIR = Path(__file__).with_name("profiles")
"""Where the built-in profiles live."""

SmiType = Literal[
    "Integer32", "Unsigned32", "Gauge32", "Counter32", "Counter64", "TimeTicks", "TruthValue",
    "DisplayString", "OctetString", "PhysAddress", "InetAddress", "IpAddress", "ObjectId",
    "TenthdBmV", "TenthdB", "QuarterdBmV", "HundredthdB",
]  # fmt: skip
CONVENTIONS: dict[str, tuple[float, str]] = {
    "TenthdBmV": (0.1, "dBmV"),
    "TenthdB": (0.1, "dB"),
    "QuarterdBmV": (0.25, "dBmV"),
    "HundredthdB": (0.01, "dB"),
}
"""Textual conventions usable as a column type: integer readings with an implied scale and unit."""

_COUNTERS: dict[str, type[int]] = {"Counter32": Counter32, "Counter64": Counter64}
_PLAIN_INTEGERS = frozenset({"Integer32", "Unsigned32", "Gauge32", "TimeTicks"})
_INTEGERS = _PLAIN_INTEGERS | CONVENTIONS.keys()
_TEXTS = frozenset({"DisplayString", "OctetString", "PhysAddress", "InetAddress", "IpAddress", "ObjectId"})
_RANGES: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("Integer32", *CONVENTIONS), (-(2**31), 2**31 - 1)),
    **dict.fromkeys(("Unsigned32", "Gauge32", "TimeTicks", "Counter32"), (0, 2**32 - 1)),
    "Counter64": (0, 2**64 - 1),
    "TruthValue": (1, 2),
}
"""The range of each integer type (RFC 2578, TruthValue of RFC 2579): a reading outside it is invalid."""
_FAST: dict[str, type[int]] = {"Counter32": Counter32, "Counter64": Counter64, **dict.fromkeys(_INTEGERS - {"TimeTicks",
                          "Gauge32"}, int)}
"""The Python type of a raw value that needs no conversion for a column type (decoding's fast path)."""
_LOGGED_MAX = 100_000
_logged: set[tuple[str, str]] = set()
"""(device, object) pairs whose invalid readings were logged already (forgotten when it holds _LOGGED_MAX)."""
_OID_RE = re.compile(r"\d+(\.\d+)+")
_INDEX_ORDER = OidCache(lambda index: tuple(map(int, index)))
"""A row index (its arcs as text) → its arcs as numbers, to order rows (devices share their indexes)."""

DEFAULT_MAX_ROWS = 10_000
"""Rows a walk of one table column may return before the poll ends with an error (``max_rows`` of a table)."""
DEFAULT_POLL_DEADLINE_S = 30.0
"""Seconds one poll of one device may take before it ends with an error (``poll_deadline_s`` of a profile)."""
DEFAULT_BULK_VARBINDS = 448
"""Varbinds one GETBULK of a poll may ask for (columns × max-repetitions; ``bulk_varbinds`` of a profile): about
answers of about 14 KB: one table of 43 interfaces with its fallback columns, or 32 DOCSIS channels with theirs."""


class ProfileError(ConfigError):
    """A profile or policy file that cannot be used; the message names the file and the field."""


def _oid(value: str) -> str:
    oid = value.removeprefix(".")
    if not _OID_RE.fullmatch(oid):
        raise ValueError(f"not a numeric OID: {value!r}")
    return oid


Oid = Annotated[str, AfterValidator(_oid)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
ObjectName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]
ProfileName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class RateSpec(StrictModel):
    """Turn a counter column into a rate field, checked against a capacity field of the same row."""

    field: Identifier
    scale: float = Field(8.0, gt=0)
    capacity: Identifier | None = None


class Column(StrictModel):
    """One SNMP object: a table column (walked) or, as :class:`Scalar`, a scalar (GET)."""

    name: ObjectName
    oid: Oid
    type: SmiType
    field: Identifier | None = None
    unit: str | None = None
    scale: float | None = None
    enum: dict[int, str] | None = None
    enum_as: Literal["name", "int", "both"] = "name"
    absent_values: tuple[int | str, ...] = ()
    fallback_for: ObjectName | None = None
    rate: RateSpec | None = None
    secret: bool = False
    write_only: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Column:
        if not self.readable:
            given = [k for k in ("field", "rate", "fallback_for", "scale", "enum") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"a secret or write_only object is never read: remove {', '.join(given)}")
            return self
        if self.fallback_for is None and self.field is None:
            raise ValueError("field: required for an object that is read")
        if self.fallback_for is not None and (self.field is not None or self.rate is not None):
            raise ValueError("a fallback fills its primary's field: leave out field and rate")
        if self.scale is not None:
            if self.type in CONVENTIONS:
                raise ValueError(f"scale: type {self.type} already implies scale {CONVENTIONS[self.type][0]}")
            if self.type not in _PLAIN_INTEGERS:
                raise ValueError(f"scale: only for integer types, not {self.type}")
            if self.scale == 0:
                raise ValueError("scale: must not be 0")
        if self.enum is not None and self.type not in ("Integer32", "Unsigned32", "Gauge32"):
            raise ValueError(f"enum: only for Integer32, Unsigned32 or Gauge32, not {self.type}")
        if self.enum_as != "name" and self.enum is None:
            raise ValueError("enum_as: needs enum")
        if self.rate is not None and self.type not in _COUNTERS:
            raise ValueError(f"rate: only for Counter32 or Counter64, not {self.type}")
        return self

    @property
    def readable(self) -> bool:
        """Whether the poller reads this object (secret and write-only objects are never read)."""
        return not (self.secret or self.write_only)

    @property
    def effective_scale(self) -> float | None:
        """The factor applied to raw values: ``scale``, or the one implied by a textual convention."""
        return self.scale if self.scale is not None else CONVENTIONS.get(self.type, (None, ""))[0]


class Scalar(Column):
    """A scalar object read with GET; scalars of one measurement form one sample tagged only by device."""

    measurement: Identifier = "system"


class RowFilter(StrictModel):
    """Keep only rows whose ``column`` value is ``in`` (or ``not_in``) a list, e.g. DOCSIS ifTypes."""

    column: ObjectName
    in_: tuple[int | str | bool, ...] | None = Field(None, alias="in")
    not_in: tuple[int | str | bool, ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> RowFilter:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("give exactly one of in / not_in")
        return self

    def accepts(self, value: FieldValue | None) -> bool:
        """Whether a row with this (decoded, unscaled) filter-column value is kept."""
        if value is None:
            return False
        return value in self.in_ if self.in_ is not None else value not in (self.not_in or ())


class Table(StrictModel):
    """Columns walked together, sharing one row index; each row becomes one sample of ``measurement``."""

    name: Identifier
    measurement: Identifier
    index: tuple[Identifier, ...]
    columns: tuple[Column, ...]
    filter: RowFilter | None = None
    max_rows: int = Field(DEFAULT_MAX_ROWS, ge=1)
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Table:
        if not self.index or not self.columns:
            raise ValueError("index and columns: give at least one each")
        _check_group(self.index, self.columns, self.filter)
        return self


def _kind(col: Column) -> str:
    """The kind of value a column puts into its field (a fallback must match its primary)."""
    if col.type in _COUNTERS:
        return "counter"
    if col.enum is not None:
        return f"enum-{col.enum_as}"
    if col.type == "TruthValue":
        return "bool"
    if col.type in _TEXTS:
        return "text"
    return "float" if col.effective_scale is not None else "int"


def _check_group(index: Sequence[str], columns: Sequence[Column], row_filter: RowFilter | None) -> None:
    """Cross-column checks shared by tables and groups of scalars."""
    by_name: dict[str, Column] = {}
    for col in columns:
        if col.name in by_name:
            raise ValueError(f"columns: {col.name} appears twice")
        by_name[col.name] = col
    if len(set(index)) != len(index) or "device" in index:
        raise ValueError("index: names must be unique and not 'device'")
    outputs: dict[str, str] = {name: "index" for name in index}

    def claim(name: str, owner: str) -> None:
        if name in outputs or name == "device":
            raise ValueError(f"{owner}: field {name!r} is already used by {outputs.get(name, 'the device tag')}")
        outputs[name] = owner

    fallen_back: set[str] = set()
    for col in columns:
        if col.fallback_for is None:
            continue
        primary = by_name.get(col.fallback_for)
        where = f"{col.name}.fallback_for"
        if primary is None or primary is col:
            raise ValueError(f"{where}: no other column named {col.fallback_for!r}")
        if primary.fallback_for is not None or not primary.readable:
            raise ValueError(f"{where}: {primary.name} is itself a fallback or is not read")
        if primary.name in fallen_back:
            raise ValueError(f"{where}: {primary.name} already has a fallback")
        fallen_back.add(primary.name)
        mine, theirs = _kind(col), _kind(primary)
        if mine != theirs and not (theirs == "float" and mine == "int"):
            raise ValueError(f"{where}: {col.name} gives {mine} values but {primary.name} gives {theirs}")
    for col in columns:
        if col.field is None:
            continue
        claim(col.field, col.name)
        if col.enum_as == "both":
            claim(f"{col.field}_name", col.name)
        if col.rate is not None:
            claim(col.rate.field, col.name)
            claim(f"{col.rate.field}_valid", col.name)
    for col in columns:
        if col.rate is not None and col.rate.capacity is not None and outputs.get(col.rate.capacity) in (None, "index"):
            raise ValueError(f"{col.name}.rate.capacity: no field {col.rate.capacity!r} in this table")
    if row_filter is not None:
        target = by_name.get(row_filter.column)
        if target is None or not target.readable or target.fallback_for is not None:
            raise ValueError(f"filter.column: no readable, non-fallback column named {row_filter.column!r}")


Rows = dict[int, dict[tuple[str, ...], dict[str, Value]]]
"""Raw results grouped by table (the id of its plan) and row index: column name → value."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """A table or a measurement's scalars, prepared for decoding."""

    measurement: str
    index: tuple[str, ...]
    primaries: tuple[Column, ...]
    fallbacks: Mapping[str, Column]
    by_name: Mapping[str, Column]
    filter: RowFilter | None
    scales: Mapping[str, float | None]
    """Each column's ``effective_scale``, looked up once."""
    fast: Mapping[str, tuple[type[int], int, int, float | None, bool] | None]
    """Per primary column, how a reading of the expected type and range becomes its field without more checks:
    (Python type, low, high, scale, only when non-zero (it has a fallback)); None: always the full path (enums,
    absent values, types that need converting)."""

    @classmethod
    def of(cls, measurement: str, index: tuple[str, ...], columns: Sequence[Column], filt: RowFilter | None) -> _Plan:
        readable = [c for c in columns if c.readable]
        return cls(
            measurement,
            index,
            tuple(c for c in readable if c.fallback_for is None),
            {c.fallback_for: c for c in readable if c.fallback_for is not None},
            {c.name: c for c in readable},
            filt,
            {c.name: c.effective_scale for c in readable},
            {c.name: _fast_path(c, any(f.fallback_for == c.name for f in readable)) for c in readable},
        )


def _fast_path(col: Column, has_fallback: bool) -> tuple[type[int], int, int, float | None, bool] | None:
    """``_Plan.fast`` of one column."""
    kind = _FAST.get(col.type)
    if kind is None or col.enum is not None or col.absent_values or col.fallback_for is not None:
        return None
    return (kind, *_RANGES[col.type], col.effective_scale, has_fallback)


@dataclass(slots=True)
class _Index:
    """Lookups built once per profile."""

    plans: list[_Plan] = field(default_factory=list)
    scalar_plans: list[_Plan] = field(default_factory=list)
    # index length → column OID → (plan, column); readable table columns only
    columns: dict[int, dict[str, tuple[_Plan, Column]]] = field(default_factory=dict)
    objects: dict[str, Column] = field(default_factory=dict)
    # column OID → (table name, max_rows); readable table columns only
    walks: dict[str, tuple[str, int]] = field(default_factory=dict)
    column_plan: list[TablePlan] = field(default_factory=list)
    fallback_plan: list[TablePlan] = field(default_factory=list)
    table_plans: list[_Plan] = field(default_factory=list)  # the plan of each column_plan table


@dataclass(frozen=True, slots=True)
class TablePlan:
    """The first-pass columns of one profile table (fallbacks left out): walked together, ``max_rows`` each."""

    name: str
    roots: tuple[str, ...]
    max_rows: int


@dataclass(frozen=True, slots=True)
class PollLimits:
    """One device's overrides of its profile's limits; None keeps the profile's value."""

    max_rows: int | None = None
    poll_deadline_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_rows is not None and self.max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        if self.poll_deadline_s is not None and not self.poll_deadline_s > 0:
            raise ValueError("poll_deadline_s must be above 0")


SecurityName = Literal["open", "wpa2-psk", "wpa2-enterprise", "wpa3-enterprise"]


class SecondarySsidRow(StrictModel):
    """One row the secondary SSID occupies: the same clabWIFISSIDId and clabWIFIAccessPointId on one radio."""

    id: int = Field(ge=1, le=2**31 - 1)
    radio: int = Field(ge=1, le=16)


class SecondarySsid(StrictModel):
    """How a gateway model carries a secondary (community) SSID: which rows are the subscriber's own (read, never
    written), which rows the secondary SSID takes, how the VLAN maps onto the device, and the device's security
    modes. Objects are CLAB-WIFI-MIB's (``mib``), whose OIDs the writer knows."""

    mib: Literal["clab-wifi"] = "clab-wifi"
    primary: tuple[int, ...] = Field(min_length=1)
    rows: tuple[SecondarySsidRow, ...] = Field(min_length=1)
    lower_layers: str = Field("Device.WiFi.Radio.{radio}", min_length=1, max_length=256,
                              description="clabWIFISSIDLowerLayers; {radio} and {vlan} are filled in")
    security_modes: dict[SecurityName, int] = Field(min_length=1,
                                                    description="clabWIFIAccessPointSecurityModeEnabled values")

    @model_validator(mode="after")
    def _check(self) -> SecondarySsid:
        ids = [row.id for row in self.rows]
        if len(set(ids)) != len(ids) or set(ids) & set(self.primary):
            raise ValueError("rows: ids must be distinct and none of the primary ids")
        try:
            self.lower_layers.format(radio=1, vlan=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("lower_layers: only {radio} and {vlan} may be filled in") from None
        return self


class Profile(StrictModel):
    """A validated device profile (see ``docs/profiles.md``)."""

    name: ProfileName
    description: str = ""
    extends: ProfileName | None = None
    uptime: ObjectName | None = None
    poll_deadline_s: float = Field(DEFAULT_POLL_DEADLINE_S, gt=0)
    bulk_varbinds: int = Field(DEFAULT_BULK_VARBINDS, ge=1, le=4096)
    scalars: tuple[Scalar, ...] = ()
    tables: tuple[Table, ...] = ()
    secondary_ssid: SecondarySsid | None = None
    """Where a secondary SSID goes on this model; None: the model carries none."""
    _ix: _Index = PrivateAttr(default_factory=_Index)

    @model_validator(mode="after")
    def _check(self) -> Profile:
        names: dict[str, str] = {}
        for kind, items in (("scalars", self.scalars), ("tables", self.tables)):
            for item in items:
                if item.name in names:
                    raise ValueError(f"{kind}: name {item.name!r} is used twice")
                names[item.name] = kind
        objects = [*self.scalars, *(c for t in self.tables for c in t.columns)]
        seen: set[str] = set()
        for obj in objects:
            if obj.name in seen:
                raise ValueError(f"object name {obj.name!r} is used twice")
            seen.add(obj.name)
        oids = sorted((tuple(int(p) for p in o.oid.split(".")), o.name) for o in objects)
        for (a, a_name), (b, b_name) in itertools.pairwise(oids):
            if b[: len(a)] == a:
                raise ValueError(f"oid of {b_name} is {'the same as' if a == b else 'under'} the oid of {a_name}")
        by_measurement: dict[str, list[Scalar]] = {}
        for scalar in self.scalars:
            by_measurement.setdefault(scalar.measurement, []).append(scalar)
        for measurement, scalars in by_measurement.items():
            try:
                _check_group((), scalars, None)
            except ValueError as exc:
                raise ValueError(f"scalars of measurement {measurement}: {exc}") from None
        if self.uptime is not None:
            up = next((s for s in self.scalars if s.name == self.uptime), None)
            if up is None or up.type != "TimeTicks" or not up.readable:
                raise ValueError(f"uptime: {self.uptime!r} is not a readable TimeTicks scalar of this profile")
        return self

    def series_schema(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """What this profile writes: measurement → (tag names, field names), rate fields and flags included."""
        out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for plan in [*self._ix.scalar_plans, *self._ix.plans]:
            fields: list[str] = list(out.get(plan.measurement, ((), ()))[1])
            for column in plan.primaries:
                if column.field:
                    fields.append(column.field)
                if column.rate:
                    fields += [column.rate.field, f"{column.rate.field}_valid"]
            out[plan.measurement] = (("device", *plan.index), tuple(dict.fromkeys(fields)))
        return out

    def model_post_init(self, context: Any, /) -> None:
        ix = _Index(objects={o.name: o for o in [*self.scalars, *(c for t in self.tables for c in t.columns)]})
        measurements = dict.fromkeys(s.measurement for s in self.scalars)
        for measurement in measurements:
            group = [s for s in self.scalars if s.measurement == measurement]
            ix.scalar_plans.append(_Plan.of(measurement, (), group, None))
        for table in self.tables:
            plan = _Plan.of(table.measurement, table.index, table.columns, table.filter)
            ix.plans.append(plan)
            for col in plan.by_name.values():
                ix.columns.setdefault(len(table.index), {})[col.oid] = (plan, col)
                ix.walks[col.oid] = (table.name, table.max_rows)
            roots = tuple(c.oid for c in plan.primaries)
            if roots:
                ix.column_plan.append(TablePlan(table.name, roots, table.max_rows))
                ix.table_plans.append(plan)
                ix.fallback_plan.append(TablePlan(table.name, tuple(c.oid for c in plan.fallbacks.values()),
                                                  table.max_rows))
        self._ix = ix

    @property
    def get_oids(self) -> tuple[str, ...]:
        """OIDs to GET: every readable scalar (secret and write-only objects are never read)."""
        return tuple(s.oid for s in self.scalars if s.readable)

    @property
    def walk_roots(self) -> tuple[str, ...]:
        """Column OIDs to walk: every readable column, fallbacks included (secret columns never)."""
        return tuple(c.oid for p in self._ix.plans for c in p.by_name.values())

    @property
    def column_plan(self) -> tuple[TablePlan, ...]:
        """The tables' first-pass columns (readable, no fallbacks), one :class:`TablePlan` per table."""
        return tuple(self._ix.column_plan)

    @property
    def fallback_plan(self) -> tuple[TablePlan, ...]:
        """The fallback columns of each table of :attr:`column_plan` (same order; ``roots`` may be empty)."""
        return tuple(self._ix.fallback_plan)

    @property
    def primary_walk_roots(self) -> tuple[str, ...]:
        """Column OIDs to walk in a first pass: readable columns except fallbacks."""
        return tuple(c.oid for p in self._ix.plans for c in p.primaries)

    def rows(self, results: Mapping[str, Value]) -> Rows:
        """Raw results grouped by table and row (what :func:`decode` and :meth:`needed_fallback_roots` read)."""
        return _collect(self._ix, results)

    @property
    def filtered(self) -> bool:
        """Whether some table of :attr:`column_plan` has a row filter."""
        return any(plan.filter is not None for plan in self._ix.table_plans)

    def kept_rows(self, rows: Rows) -> tuple[tuple[str, ...] | None, ...]:
        """Per :attr:`column_plan` table: the indices (OID suffixes) of the rows that pass its filter, in order;
        None for a table without a filter."""
        return tuple(None if plan.filter is None else
                     tuple(".".join(idx) for idx, row in rows.get(id(plan), {}).items() if _kept(plan, row))
                     for plan in self._ix.table_plans)

    def needed_fallback_roots(self, results: Mapping[str, Value], rows: Rows | None = None) -> tuple[str, ...]:
        """Fallback column OIDs worth walking after a first pass, given that pass's results (and their
        :meth:`rows`, when already grouped).

        A fallback is needed when its table gave no rows, or when some row that passes the table's filter
        lacks a usable primary value (absent, in ``absent_values``, zero or empty) — e.g. ifHighSpeed 0 →
        walk ifSpeed. A counter's zero is a reading like any other once the table shows that the agent keeps
        its counters with fallbacks (one of them reads non-zero in some row): a downstream channel's
        ifHCOutOctets 0 or a clean channel's corrected codewords 0 then need no Counter32 walk; an agent that
        answers zero in all of them (64-bit counters not kept) still gets its fallbacks. (Filter columns are
        never fallbacks, so the first pass always includes them.)
        """
        if rows is None:
            rows = _collect(self._ix, results)
        needed = []
        for plan in self._ix.plans:
            kept = [r for r in rows.get(id(plan), {}).values() if _kept(plan, r)]
            counters = [plan.by_name[name] for name in plan.fallbacks if plan.by_name[name].type in _COUNTERS]
            counting = any(not _empty(_plain(c, r.get(c.name))) for c in counters for r in kept)
            for primary_name, fallback in plan.fallbacks.items():
                primary = plan.by_name[primary_name]
                absent = _absent if counting and primary.type in _COUNTERS else _empty
                if not kept or any(absent(_plain(primary, r.get(primary_name))) for r in kept):
                    needed.append(fallback.oid)
        return tuple(needed)

    def deadline_s(self, limits: PollLimits | None = None) -> float:
        """Seconds a poll of one device may take: the device's override, else the profile's ``poll_deadline_s``."""
        override = limits.poll_deadline_s if limits is not None else None
        return self.poll_deadline_s if override is None else override

    def walk_limit(self, root: str, limits: PollLimits | None = None) -> tuple[str, int]:
        """The table name and row cap of the walk of column ``root`` (a member of ``walk_roots``): the cap is the
        device's override, else the table's ``max_rows``."""
        table, max_rows = self._ix.walks[root]
        override = limits.max_rows if limits is not None else None
        return table, max_rows if override is None else override

    def object(self, name: str) -> Column:
        """The scalar or column called ``name`` (also secret and write-only ones, for writers)."""
        try:
            return self._ix.objects[name]
        except KeyError:
            raise KeyError(f"profile {self.name} has no object {name!r}") from None


@dataclass(frozen=True, slots=True)
class InvalidReading:
    """An object the agent answered with a value outside its type's range or of the wrong type: left out of the
    samples. ``index`` is the row index as text ("" for a scalar)."""

    object: str
    index: str
    reason: str


class Samples(list[Sample]):
    """The samples of one poll, with the poll's invalid readings (objects left out, see :func:`decode`)."""

    def __init__(self, samples: Iterable[Sample] = (), invalid: Iterable[InvalidReading] = ()) -> None:
        super().__init__(samples)
        self.invalid = tuple(invalid)


def decode(
    profile: Profile,
    device: str,
    results: Mapping[str, Value],
    at: float,
    *,
    rates: RateTracker | None = None,
    capacity_bps: Mapping[str, float] | None = None,
    rows: Rows | None = None,
) -> Samples:
    """Turn raw GET/walk results (OID without leading dot → value) into Samples, following ``profile``
    (``rows``: the results grouped by :meth:`Profile.rows` already).

    Tags are ``device`` and the table's index names (e.g. ``ifindex``, ``channel``); values are scaled to
    their units; enums become names or codes as the profile says; counter fields keep their
    Counter32/Counter64 class. Secret and write-only objects are ignored even when present in ``results``.
    With ``rates``, each column with a ``rate:`` adds ``<rate field>`` (float) and ``<rate field>_valid``
    (bool) whenever the tracker yields a rate; ``capacity_bps`` (row index, e.g. ifIndex as text → bit/s)
    overrides the capacity field of such rates. ``at`` is Unix time; samples carry it in whole seconds.

    A value outside its column type's range (a BER-level :class:`~collectors.snmp.values.Invalid`, INTEGER -5
    for a TimeTicks, 2**32 for a Counter32) or of the wrong type (an INTEGER where a counter is expected) is an
    invalid reading: its field is left out (a fallback may fill it), it is listed in the result's ``invalid``
    and logged once per device and object. Decoding never raises for what an agent answered.
    """
    ix = profile._ix
    time_s = int(at)
    uptime: int | None = None
    if profile.uptime is not None:
        up = profile.object(profile.uptime)
        raw = _plain(up, results.get(up.oid))
        uptime = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if rows is None:
        rows = _collect(ix, results)
    samples: list[Sample] = []
    invalid: list[InvalidReading] = []
    for plan in [*ix.scalar_plans, *ix.plans]:
        plan_rows = rows.get(id(plan), {})
        for idx in sorted(plan_rows, key=_INDEX_ORDER.__getitem__):
            index = ".".join(idx)
            fields = _decode_row(plan, plan_rows[idx], index, invalid)
            if fields is None:
                continue
            if rates is not None:
                _add_rates(plan, device, index, fields, rates, at, uptime, capacity_bps)
            if fields:
                tags = (("device", device), *zip(plan.index, idx, strict=True))
                samples.append(Sample(plan.measurement, tags, fields, time_s))
    _log_invalid(device, invalid)
    return Samples(samples, invalid)


def _log_invalid(device: str, invalid: Sequence[InvalidReading]) -> None:
    """One warning per device and object, the first time it answers invalid readings."""
    for reading in invalid:
        key = (device, reading.object)
        if key in _logged:
            continue
        if len(_logged) >= _LOGGED_MAX:
            _logged.clear()
        _logged.add(key)
        where = f" (row {reading.index})" if reading.index else ""
        log.warning("%s: invalid reading of %s%s: %s; left out", device, reading.object, where, reading.reason)


def _collect(ix: _Index, results: Mapping[str, Value]) -> Rows:
    """Group raw results by plan (keyed by id) and row index, keeping only readable objects."""
    rows: Rows = {}
    for plan in ix.scalar_plans:
        row = {c.name: results[c.oid] for c in plan.by_name.values() if c.oid in results}
        if row:
            rows[id(plan)] = {(): row}
    single, double = ix.columns.get(1, {}), ix.columns.get(2, {})
    longer = [(n, c) for n, c in ix.columns.items() if n > 2]
    for oid, value in results.items():
        prefix, _, last = oid.rpartition(".")  # most tables have a one-arc index: one cheap split
        hit = single.get(prefix)
        if hit is not None:
            idx: tuple[str, ...] = (last,)
        else:
            if double:
                prefix, _, first = prefix.rpartition(".")
                hit = double.get(prefix)
                idx = (first, last)
            for length, columns in longer if hit is None else ():
                prefix, *parts = oid.rsplit(".", length)
                hit = columns.get(prefix)
                if hit is not None and len(parts) == length:
                    idx = tuple(parts)
                    break
            if hit is None:
                continue
        plan, col = hit
        by_index = rows.get(id(plan))
        if by_index is None:
            by_index = rows[id(plan)] = {}
        found = by_index.get(idx)
        if found is None:
            found = by_index[idx] = {}
        found[col.name] = value
    return rows


def _decode_row(
    plan: _Plan, raw: Mapping[str, Value], index: str, invalid: list[InvalidReading]
) -> dict[str, FieldValue] | None:
    """The fields of one row, None when the row filter drops it; invalid readings of a kept row (and of the
    filter column) are appended to ``invalid``."""
    filter_name, filter_value = "", None
    if plan.filter is not None:
        target = plan.by_name[plan.filter.column]
        filter_name, filter_value = target.name, _value(target, raw.get(target.name), index, invalid)
        if not plan.filter.accepts(filter_value):
            return None
    fields: dict[str, FieldValue] = {}
    fallbacks, scales, fast = plan.fallbacks, plan.scales, plan.fast
    for col in plan.primaries:
        name = col.name
        spec = fast[name]
        if spec is not None:  # the common case: a reading of the expected type, in range (non-zero if it matters)
            got: Any = raw.get(name)
            kind, low, high, scale, nonzero = spec
            if got.__class__ is kind and low <= got <= high and (got or not nonzero):
                fields[col.field] = got if scale is None else round(got * scale, 6)  # type: ignore[index]
                continue
        value = filter_value if name == filter_name else _value(col, raw.get(name), index, invalid)
        source = col
        fallback = fallbacks.get(name) if fallbacks else None
        if fallback is not None and _empty(value):
            other = _value(fallback, raw.get(fallback.name), index, invalid)
            if other is not None and (value is None or not _empty(other)):
                source, value = fallback, other
        if value is None:
            continue
        if source.enum is None and scales[source.name] is None and col.enum is None and scales[name] is None:
            fields[col.field] = value  # type: ignore[index]  # the common case: a reading as it is
        else:
            _present(col, source, value, fields)
    return fields


def _value(col: Column, raw: Value | None, index: str, invalid: list[InvalidReading]) -> FieldValue | None:
    """A column's reading (:func:`_reading`); an invalid one is listed in ``invalid`` and read as absent."""
    value = _reading(col, raw)
    if isinstance(value, Invalid):
        invalid.append(InvalidReading(col.name, index, value.reason))
        return None
    return value


def _kept(plan: _Plan, raw: Mapping[str, Value]) -> bool:
    """Whether a row passes its table's filter."""
    if plan.filter is None:
        return True
    target = plan.by_name[plan.filter.column]
    return plan.filter.accepts(_plain(target, raw.get(target.name)))


def _present(col: Column, source: Column, value: FieldValue, fields: dict[str, FieldValue]) -> None:
    """Put ``value`` (read from ``source``: ``col`` or its fallback) into ``col``'s field, scaled or named."""
    assert col.field is not None
    if source.enum is not None and isinstance(value, int):
        label = source.enum.get(value, str(value))
        fields[col.field] = label if col.enum_as == "name" else value
        if col.enum_as == "both":
            fields[f"{col.field}_name"] = label
        return
    scale = source.effective_scale
    if scale is not None and isinstance(value, int):
        fields[col.field] = round(value * scale, 6)
    elif col.effective_scale is not None and isinstance(value, int):
        fields[col.field] = float(value)
    else:
        fields[col.field] = value


def _add_rates(
    plan: _Plan,
    device: str,
    index: str,
    fields: dict[str, FieldValue],
    rates: RateTracker,
    at: float,
    uptime: int | None,
    capacity_bps: Mapping[str, float] | None,
) -> None:
    for col in plan.primaries:
        spec = col.rate
        value = fields.get(col.field or "")
        if spec is None or not isinstance(value, Counter32 | Counter64):
            continue
        max_bps: float | None = None
        if spec.capacity is not None:
            cap = (capacity_bps or {}).get(index, fields.get(spec.capacity))
            max_bps = float(cap) if isinstance(cap, int | float) and not isinstance(cap, bool) else None
        reading = CounterReading.of(value, at=at, uptime_ticks=uptime)
        key = RateKey(device, index, f"{plan.measurement}.{spec.field}")
        result = rates.update(key, reading, max_bps=max_bps, scale=spec.scale)
        if isinstance(result, Rate):
            fields[spec.field] = round(result.bps, 3)
            fields[f"{spec.field}_valid"] = result.valid


def _absent(value: FieldValue | None) -> bool:
    """No usable reading at all (absent or invalid)."""
    return value is None


def _empty(value: FieldValue | None) -> bool:
    """Absent, zero or empty: a primary value that lets its fallback step in."""
    return value is None or (not isinstance(value, bool) and value in (0, ""))


def _plain(col: Column, raw: Value | None) -> FieldValue | None:
    """A raw SNMP value as the Python value of the column's type (unscaled), or None if absent or unusable."""
    value = _reading(col, raw)
    return None if isinstance(value, Invalid) else value


def _reading(col: Column, raw: Value | None) -> FieldValue | Invalid | None:
    """A raw SNMP value as the Python value of the column's type (unscaled): None when absent or one of the
    column's ``absent_values``, an :class:`Invalid` when out of the type's range or of the wrong type."""
    if raw is None:
        return None
    kind = type(raw)
    if kind is _FAST.get(col.type) and not col.absent_values:  # the common case: the type the column expects
        low, high = _RANGES[col.type]
        if low <= raw <= high:  # type: ignore[operator]
            return raw  # type: ignore[return-value]
    if isinstance(raw, Invalid):
        return raw
    value: FieldValue | None
    bounds = _RANGES.get(col.type)
    if bounds is not None:
        if not isinstance(raw, int) or isinstance(raw, bool):
            return Invalid(col.type, f"got {type(raw).__name__}, not an integer")
        if col.type in _COUNTERS and not isinstance(raw, Counter32 | Counter64):
            return Invalid(col.type, f"got {type(raw).__name__}, not a counter")
        if not bounds[0] <= raw <= bounds[1]:
            shown = raw if raw.bit_length() <= 64 else f"a {raw.bit_length()}-bit number"
            return Invalid(col.type, f"{shown} outside {bounds[0]}..{bounds[1]}")
        if col.type in _COUNTERS:
            value = _COUNTERS[col.type](raw)
        elif col.type == "TruthValue":
            value = raw == 1
        else:
            value = int(raw)
    else:
        value = _text(col.type, raw)
        if value is None:
            return Invalid(col.type, f"got {type(raw).__name__}, not octets")
    if value in col.absent_values and not isinstance(value, bool):
        return None
    return value


def _text(smi: str, raw: Value) -> str | None:
    if isinstance(raw, str):
        return str(raw)
    if not isinstance(raw, bytes):
        return None
    if smi == "DisplayString":
        return raw.decode("utf-8", errors="replace").rstrip("\x00")
    if smi == "PhysAddress":
        return ":".join(f"{b:02x}" for b in raw)
    if smi in ("InetAddress", "IpAddress") and len(raw) in (4, 16):
        return str(ipaddress.ip_address(raw))
    return raw.hex()


# --- loading -------------------------------------------------------------------------------------------


def _search_path(dirs: Sequence[str | Path] | None) -> tuple[Path, ...]:
    return (*(Path(d) for d in dirs or ()), PROFILE_DIR)


def available_profiles(dirs: Sequence[str | Path] | None = None) -> list[str]:
    """Names of the device profiles in ``dirs`` and the built-in directory."""
    names = {p.stem for d in _search_path(dirs) if d.is_dir() for p in d.glob("*.yaml")}
    return sorted(names)


def load_profile(name: str, dirs: Sequence[str | Path] | None = None) -> Profile:
    """Load, merge (``extends``) and validate the profile ``name``.

    ``dirs`` are searched before the built-in directory, so an operator's file can add a model or replace a
    built-in profile. Raises :class:`ProfileError` naming the file and the field for any problem.
    """
    profile, _ = _load(name, _search_path(dirs), ())
    return profile


def _load(name: str, search: tuple[Path, ...], chain: tuple[str, ...]) -> tuple[Profile, dict[str, Any]]:
    path = next((d / f"{name}.yaml" for d in search if (d / f"{name}.yaml").is_file()), None)
    if path is None:
        raise ProfileError(f"no profile named {name!r} in {', '.join(map(str, search))}")
    if name in chain:
        raise ProfileError(f"{path}: extends: cycle {' -> '.join((*chain, name))}")
    raw = read_yaml(path, ProfileError)
    parent = raw.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise ProfileError(f"{path}: extends: must be a profile name")
        _, parent_raw = _load(parent, search, (*chain, name))
        raw = _merge_profile(parent_raw, raw, path)
    profile = validate_model(Profile, raw, path, ProfileError)
    if profile.name != path.stem:
        raise ProfileError(f"{path}: name: {profile.name!r} differs from the file name {path.stem!r}")
    return profile, raw


def _merge_profile(parent: dict[str, Any], child: dict[str, Any], path: Path) -> dict[str, Any]:
    """The child's keys over the parent's; ``scalars`` and ``tables`` (and their ``columns``) merge by name."""
    merged = {**parent, "description": "", **child}
    merged["name"] = child.get("name")
    for key in ("scalars", "tables"):
        merged[key] = _merge_named(parent.get(key, []), child.get(key, []), path, key)
    return merged


def _merge_named(base: list[Any], patch: Any, path: Path, where: str) -> list[Any]:
    """Merge list items by ``name``: patch keys win, ``drop: true`` removes an inherited item, new ones append."""
    if not isinstance(patch, list):
        raise ProfileError(f"{path}: {where}: must be a list")
    out: dict[str, dict[str, Any]] = {item["name"]: item for item in base}
    for i, item in enumerate(patch):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ProfileError(f"{path}: {where}[{i}]: needs a name")
        item = dict(item)
        name = item["name"]
        here = f"{where}[{name}]"
        if item.pop("drop", False):
            if name not in out or set(item) != {"name"}:
                raise ProfileError(f"{path}: {here}.drop: only 'name' and 'drop', for an inherited item")
            del out[name]
        elif name in out:
            inherited = out[name]
            if "columns" in item:
                item["columns"] = _merge_named(inherited.get("columns", []), item["columns"], path, f"{here}.columns")
            out[name] = {**inherited, **item}
        else:
            out[name] = item
    return list(out.values())
