"""Segment utilization from member interface rates: per direction, sum of rates over sum of capacities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from collectors.samples import Sample
from noc.polling.events import SegmentPoint
from noc.polling.targets import MemberRef, SegmentDef


@dataclass
class SegmentReadings:
    """What one cycle gave: a point per segment direction that could be computed, and why others could not."""

    points: list[SegmentPoint] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    withheld: dict[str, int] = field(default_factory=dict)

    def withhold(self, reason: str) -> None:
        """Count one segment direction left out of this cycle, by reason."""
        self.withheld[reason] = self.withheld.get(reason, 0) + 1


def index_interfaces(samples: Iterable[Sample]) -> dict[tuple[str, str], Sample]:
    """Interface samples by (device name, ifIndex) and (device name, "name:" + ifName)."""
    out: dict[tuple[str, str], Sample] = {}
    for sample in samples:
        if sample.measurement != "interface":
            continue
        device, ifindex = sample.tag("device") or "", sample.tag("ifindex") or ""
        out[(device, ifindex)] = sample
        if isinstance(sample.fields.get("name"), str):
            out[(device, "name:" + str(sample.fields["name"]))] = sample
    return out


def member_sample(member: MemberRef, device_names: Mapping[int, str],
                  interfaces: Mapping[tuple[str, str], Sample]) -> Sample | None:
    """The interface sample a segment member refers to, by ifIndex or ifName."""
    device = device_names.get(member.device_id, "")
    key = str(member.if_index) if member.if_index is not None else "name:" + (member.if_name or "")
    return interfaces.get((device, key))


def segment_readings(segments: Iterable[SegmentDef], device_names: Mapping[int, str],
                     interface_samples: Iterable[Sample], at: int) -> SegmentReadings:
    """Utilization of every segment direction whose members all gave a valid rate this cycle.

    A direction is withheld (never guessed) when a member is missing, has no valid rate (first poll,
    agent restart, counter discontinuity, rate above speed) or no known speed, or when the result would
    exceed 100 % of the capacity override.
    """
    interfaces = index_interfaces(interface_samples)
    out = SegmentReadings()
    for segment in segments:
        for direction in ("down", "up"):
            members = [m for m in segment.members if m.direction == direction]
            if members:
                _one_direction(segment, direction, members, device_names, interfaces, at, out)
    return out


def _one_direction(segment: SegmentDef, direction: str, members: list[MemberRef],
                   device_names: Mapping[int, str], interfaces: Mapping[tuple[str, str], Sample],
                   at: int, out: SegmentReadings) -> None:
    bps = speed = 0.0
    for member in members:
        sample = member_sample(member, device_names, interfaces)
        if sample is None:
            out.withhold("member_missing")
            return
        rate_field = f"{member.counter}_bps"
        rate, valid = sample.fields.get(rate_field), sample.fields.get(f"{rate_field}_valid")
        if not isinstance(rate, int | float) or valid is not True:
            out.withhold("no_valid_rate")
            return
        bps += float(rate)
        member_speed = sample.fields.get("speed_bps")
        speed += float(member_speed) if isinstance(member_speed, int | float) else 0.0
    capacity = segment.capacity_bps.get(direction) or speed
    if capacity <= 0:
        out.withhold("no_capacity")
        return
    if bps > capacity:
        out.withhold("above_capacity")
        return
    point = SegmentPoint(segment.id, direction, at, bps, capacity)
    out.points.append(point)
    out.samples.append(Sample("segment", (("segment", segment.name), ("direction", direction)),
                              {"utilization": point.utilization, "bps": bps, "capacity_bps": capacity}, at))
