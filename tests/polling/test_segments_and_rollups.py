"""Segment utilization from member rates, and rollups: pure logic on synthetic readings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.samples import Sample
from noc.capacity.rollups import RollupBuffer, SegmentPoint, percentile
from noc.polling.segments import segment_readings
from noc.polling.targets import MemberRef, SegmentDef

NAMES = {1: "cmts-1", 2: "cmts-2"}


def iface(device: str, ifindex: int, *, out_bps: float | None, in_bps: float | None = 0.0, speed: float = 1e9,
          valid: bool = True, name: str = "") -> Sample:
    fields: dict[str, float | int | str | bool] = {"speed_bps": speed, "name": name or f"if{ifindex}"}
    for field, value in (("out_bps", out_bps), ("in_bps", in_bps)):
        if value is not None:
            fields[field], fields[f"{field}_valid"] = value, valid
    return Sample("interface", (("device", device), ("ifindex", str(ifindex))), fields, 1000)


def segment(members: list[MemberRef], down_cap: float | None = None) -> SegmentDef:
    return SegmentDef(7, "sg-7", tuple(members), {"down": down_cap, "up": None})


def test_several_interfaces_sum_rates_and_capacities() -> None:
    seg = segment([MemberRef(7, "down", 1, "out", 11, None), MemberRef(7, "down", 2, "out", None, "Cable2/0")])
    samples = [iface("cmts-1", 11, out_bps=300e6), iface("cmts-2", 5, out_bps=500e6, name="Cable2/0")]
    readings = segment_readings([seg], NAMES, samples, 1000)
    [point] = readings.points
    assert point.bps == 800e6 and point.capacity_bps == 2e9 and point.utilization == pytest.approx(0.4)
    [sample] = readings.samples
    assert sample.measurement == "segment" and dict(sample.tags) == {"segment": "sg-7", "direction": "down"}


def test_capacity_override_wins_over_interface_speeds() -> None:
    seg = segment([MemberRef(7, "down", 1, "out", 11, None)], down_cap=400e6)
    [point] = segment_readings([seg], NAMES, [iface("cmts-1", 11, out_bps=300e6)], 1000).points
    assert point.utilization == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        ([iface("cmts-1", 11, out_bps=300e6)], "member_missing"),
        ([iface("cmts-1", 11, out_bps=300e6), iface("cmts-2", 12, out_bps=9e9, valid=False)], "no_valid_rate"),
        ([iface("cmts-1", 11, out_bps=300e6), iface("cmts-2", 12, out_bps=None)], "no_valid_rate"),
    ],
)
def test_a_member_without_a_valid_rate_withholds_the_point(samples: list[Sample], reason: str) -> None:
    seg = segment([MemberRef(7, "down", 1, "out", 11, None), MemberRef(7, "down", 2, "out", 12, None)])
    readings = segment_readings([seg], NAMES, samples, 1000)
    assert readings.points == [] and readings.withheld == {reason: 1}


def test_never_above_100_percent() -> None:
    seg = segment([MemberRef(7, "down", 1, "out", 11, None)], down_cap=100e6)
    readings = segment_readings([seg], NAMES, [iface("cmts-1", 11, out_bps=300e6)], 1000)
    assert readings.points == [] and readings.withheld == {"above_capacity": 1}


def test_counter_choice_per_direction() -> None:
    seg = segment([MemberRef(7, "down", 1, "in", 11, None), MemberRef(7, "up", 1, "out", 11, None)])
    readings = segment_readings([seg], NAMES, [iface("cmts-1", 11, out_bps=10e6, in_bps=90e6)], 1000)
    by_direction = {p.direction: p.bps for p in readings.points}
    assert by_direction == {"down": 90e6, "up": 10e6}


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.85)
    assert percentile([5.0], 0.95) == 5.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_rollup_buffer_closes_only_finished_periods() -> None:
    buffer = RollupBuffer(300)
    for i, share in enumerate([0.5, 0.6, 0.7, 0.8, 0.9]):
        buffer.add(SegmentPoint(7, "down", 600 + 60 * i, share * 1e9, 1e9))
    buffer.add(SegmentPoint(7, "down", 905, 0.1e9, 1e9))
    assert buffer.close(899) == []
    [rollup] = buffer.close(900)
    assert rollup.start == datetime.fromtimestamp(600, UTC) and rollup.points == 5
    assert rollup.mean == pytest.approx(0.7) and rollup.max == pytest.approx(0.9)
    assert rollup.p95 == pytest.approx(0.88) and buffer.pending() == 1
