"""The utilization chart: valid standalone SVG, lines where they belong, hostile text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from noc.capacity.chart import utilization_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
START = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)  # the day before the switch to summer time


def day_of(minutes: int, level: float) -> list[tuple[datetime, float]]:
    return [(START + timedelta(minutes=5 * i), level + (i % 12) / 100) for i in range(minutes // 5)]


SERIES = {"down mean": day_of(1440, 0.5), "down max": day_of(1440, 0.6), "up mean": day_of(1440, 0.2)}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def grid_y(root: ET.Element, pct: int) -> float:
    [line] = root.findall(f"svg:line[@data-pct='{pct}']", NS)
    return float(line.get("y1", "nan"))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_a_standalone_svg_with_one_polyline_per_series() -> None:
    root = parse(utilization_svg("sg-1 downstream", SERIES))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("800", "320", "0 0 800 320")
    lines = root.findall("svg:polyline", NS)
    assert [line.get("data-series") for line in lines] == list(SERIES)
    assert [len((line.get("points") or "").split()) for line in lines] == [288, 288, 288]
    assert len({line.get("stroke") for line in lines}) == 3
    assert {"down mean", "down max", "up mean", "0 %", "100 %"} <= set(texts(root))


def test_threshold_and_clear_lines_sit_at_their_level() -> None:
    root = parse(utilization_svg("sg-1", SERIES, threshold=0.7, clear=0.6))
    zero, full = grid_y(root, 0), grid_y(root, 100)
    [threshold] = root.findall("svg:line[@class='threshold']", NS)
    [clear] = root.findall("svg:line[@class='clear']", NS)
    assert float(threshold.get("y1", "nan")) == pytest.approx(zero + 0.7 * (full - zero), abs=0.1)
    assert threshold.get("y1") == threshold.get("y2") and threshold.get("stroke-dasharray")
    assert float(clear.get("y1", "nan")) == pytest.approx(zero + 0.6 * (full - zero), abs=0.1)
    assert {"70 % upgrade threshold", "60 % clear level"} <= set(texts(root))
    assert parse(utilization_svg("sg-1", SERIES)).find("svg:line[@class='clear']", NS) is None


def test_points_map_to_time_and_utilization() -> None:
    series = {"down mean": [(START, 0.0), (START + timedelta(hours=2), 1.0), (START + timedelta(hours=4), 1.7)]}
    root = parse(utilization_svg("sg-1", series))
    [line] = root.findall("svg:polyline", NS)
    points = [tuple(map(float, p.split(","))) for p in (line.get("points") or "").split()]
    assert [y for _, y in points] == [grid_y(root, 0), grid_y(root, 100), grid_y(root, 100)]  # clamped to 100 %
    assert points[1][0] == pytest.approx((points[0][0] + points[2][0]) / 2, abs=0.1)


def label_x(root: ET.Element, text: str) -> float:
    [x] = [float(t.get("x", "nan")) for t in root.iter("{http://www.w3.org/2000/svg}text")
           if "".join(t.itertext()).startswith(text)]
    return x


@pytest.mark.parametrize(("tz", "hours_after_start"), [
    ("Europe/Ljubljana", {"18:00": 5, "00:00": 11, "06:00": 16}),  # CET (UTC+1), then CEST (UTC+2) from 02:00
    ("UTC", {"18:00": 6, "00:00": 12, "06:00": 18}),
])
def test_time_labels_are_in_local_time_across_dst(tz: str, hours_after_start: dict[str, int]) -> None:
    root = parse(utilization_svg("sg-1", {"down mean": SERIES["down mean"]}, tz=tz))
    [line] = root.findall("svg:polyline", NS)
    xs = [float(p.split(",")[0]) for p in (line.get("points") or "").split()]  # one point every 5 minutes
    for label, hours in hours_after_start.items():
        assert label_x(root, label) == pytest.approx(xs[hours * 12], abs=0.1), label
    assert "00:0030. 3." in texts(root) and f"time: {tz}" in texts(root)


def test_highlight_spans_are_shaded() -> None:
    span = (START + timedelta(hours=6), START + timedelta(hours=9))
    root = parse(utilization_svg("sg-1", SERIES, highlight=[span]))
    [rect] = root.findall("svg:rect[@class='highlight']", NS)
    assert float(rect.get("width", "0")) > 0 and "evidence period" in texts(root)


def test_a_hostile_title_and_series_name_are_escaped() -> None:
    title = """<script>alert("x")</script> & 'Šiška' ]]> \x00"""
    svg = utilization_svg(title, {"</text><script>": SERIES["down mean"]})
    assert "<script" not in svg
    root = parse(svg)
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert "".join(root.find("svg:title", NS).itertext()) == title.replace("\x00", "")  # type: ignore[union-attr]
    assert root.findall("svg:polyline", NS)[0].get("data-series") == "</text><script>"


def test_one_point_is_drawn_as_a_dot() -> None:
    root = parse(utilization_svg("sg-1", {"down mean": [(START, 0.42)], "up mean": []}))
    assert len(root.findall("svg:polyline", NS)) == 2
    [dot] = root.findall("svg:circle", NS)
    assert float(dot.get("cy", "nan")) == pytest.approx(grid_y(root, 0) + 0.42 * (grid_y(root, 100) - grid_y(root, 0)),
                                                       abs=0.1)
    assert "no data" not in texts(root)


@pytest.mark.parametrize("series", [{}, {"down mean": []}, {"down mean": [(START, float("nan"))]}])
def test_no_points_says_no_data(series: dict[str, list[tuple[datetime, float]]]) -> None:
    root = parse(utilization_svg("sg-1", series, highlight=[(START, START + timedelta(hours=1))]))
    assert "no data" in texts(root) and root.find("svg:line[@class='threshold']", NS) is not None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        utilization_svg("sg-1", {"down mean": [(datetime(2025, 1, 1), 0.5)]})
