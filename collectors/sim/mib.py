"""One agent's MIB: a sorted set of OIDs, each holding a fixed value or a function of the request's ``Moment``."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator

from collectors.sim.clock import Moment
from collectors.sim.smi import Oid, Value
from collectors.snmp.values import NO_SUCH_INSTANCE, NO_SUCH_OBJECT

Dynamic = Callable[[Moment], Value]


class Mib:
    """OID → value, with GET / GETNEXT lookups. Tuples of ints sort in SNMP's lexicographic order."""

    def __init__(self) -> None:
        self._oids: list[Oid] = []
        self._static: dict[Oid, Value] = {}
        self._dynamic: dict[Oid, Dynamic] = {}
        self._position: dict[Oid, int] | None = None  # OID → its index in _oids; None: rebuilt on next use

    def __len__(self) -> int:
        return len(self._oids)

    def __contains__(self, oid: object) -> bool:
        return oid in self._static or oid in self._dynamic

    def _insert(self, oid: Oid) -> None:
        if oid not in self._static and oid not in self._dynamic:
            if not self._oids or oid > self._oids[-1]:
                if self._position is not None:
                    self._position[oid] = len(self._oids)
                self._oids.append(oid)
            else:
                insort(self._oids, oid)
                self._position = None

    def put(self, oid: Oid, value: Value) -> None:
        """Hold a fixed value at ``oid`` (replacing whatever was there)."""
        self._insert(oid)
        self._dynamic.pop(oid, None)
        self._static[oid] = value

    def put_dynamic(self, oid: Oid, fn: Dynamic) -> None:
        """Compute the value at ``oid`` per request."""
        self._insert(oid)
        self._static.pop(oid, None)
        self._dynamic[oid] = fn

    def remove(self, oid: Oid) -> None:
        if oid in self:
            self._static.pop(oid, None)
            self._dynamic.pop(oid, None)
            del self._oids[bisect_left(self._oids, oid)]
            self._position = None

    def remove_subtree(self, prefix: Oid) -> None:
        for oid in list(self.subtree(prefix)):
            self.remove(oid)

    def subtree(self, prefix: Oid) -> Iterator[Oid]:
        """OIDs under ``prefix`` (inclusive), in order."""
        n = len(prefix)
        for i in range(bisect_left(self._oids, prefix), len(self._oids)):
            oid = self._oids[i]
            if oid[:n] != prefix:
                break
            yield oid

    def value(self, oid: Oid, moment: Moment) -> Value | None:
        """The value at exactly ``oid``, or None."""
        value = self._static.get(oid)
        if value is not None:
            return value
        fn = self._dynamic.get(oid)
        return None if fn is None else fn(moment)

    def get(self, oid: Oid, moment: Moment) -> Value:
        """GET semantics: the value, or noSuchInstance when the object type exists (some OID shares everything
        but the last arc), else noSuchObject."""
        value = self.value(oid, moment)
        if value is not None:
            return value
        parent = oid[:-1]
        i = bisect_left(self._oids, parent)
        if parent and i < len(self._oids) and self._oids[i][:len(parent)] == parent:
            return NO_SUCH_INSTANCE
        return NO_SUCH_OBJECT

    def next(self, oid: Oid, moment: Moment) -> tuple[Oid, Value] | None:
        """GETNEXT semantics: the first OID after ``oid`` with its value, or None at the end of the MIB.

        A walk asks for the OID after one the MIB holds (the previous answer): found by a dict lookup, not a
        search."""
        position = self._position
        if position is None:
            position = self._position = {held: i for i, held in enumerate(self._oids)}
        at = position.get(oid)
        i = bisect_right(self._oids, oid) if at is None else at + 1
        if i >= len(self._oids):
            return None
        found = self._oids[i]
        value = self.value(found, moment)
        assert value is not None
        return found, value

    def walk(self, moment: Moment) -> Iterator[tuple[Oid, Value]]:
        """Every OID and its current value, in order."""
        for oid in list(self._oids):
            value = self.value(oid, moment)
            if value is not None:
                yield oid, value
