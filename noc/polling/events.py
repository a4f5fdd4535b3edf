"""What polling publishes on the runtime's event bus for other capabilities (capacity keeps rollups of it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SegmentPoint:
    """One segment direction's utilization at one poll: rate over capacity, both in bit/s."""

    segment_id: int
    direction: str
    at: int
    bps: float
    capacity_bps: float

    @property
    def utilization(self) -> float:
        """Share of capacity in use (0..1; never above 1: such a reading is withheld)."""
        return self.bps / self.capacity_bps


@dataclass(frozen=True)
class SegmentsMeasured:
    """A segment cycle's result: every segment direction whose utilization could be computed at ``at``."""

    at: int
    points: tuple[SegmentPoint, ...]
