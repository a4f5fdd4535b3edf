"""The typed readings that flow from pollers to sinks."""

from __future__ import annotations

from dataclasses import dataclass, field

FieldValue = float | int | str | bool


@dataclass(frozen=True, slots=True)
class Sample:
    """One timestamped set of fields of a measurement, identified by a small, bounded tag set.

    ``time`` is Unix seconds (second precision is what SNMP polls justify). Tags must never carry
    volatile values (no readings, no timestamps): they name *what* was measured (device, ifIndex,
    channel), fields carry the values.
    """

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: dict[str, FieldValue] = field(hash=False)
    time: int

    def tag(self, name: str) -> str | None:
        """The value of tag ``name``, if present."""
        return next((v for k, v in self.tags if k == name), None)
