"""Server-rendered SVG line charts of segment utilization: the picture in the upgrade evidence."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#7F4F24", "#000000")
"""Series colours (Okabe–Ito, told apart with colour-blindness too); none is the threshold's red."""
THRESHOLD_COLOUR = "#D62728"
CLEAR_COLOUR = "#555555"
HIGHLIGHT_COLOUR = "#F4A261"
HALO = 'stroke="#FFFFFF" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
"""A white outline that keeps a label readable over the lines."""
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"

STEPS_MIN = (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)
"""Time-axis tick spacings to choose from, in minutes."""
TICK_SPACING_PX = 80
"""Least room one time label needs."""

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: str) -> str:
    """``text`` safe in SVG content and attribute values (also drops characters XML forbids)."""
    text = _NOT_XML.sub("", text)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.1f}".rstrip("0").rstrip(".")


def _fit(text: str, px: float, font_px: float) -> str:
    """``text`` cut with an ellipsis to about ``px`` wide."""
    chars = max(1, int(px / (font_px * 0.6)))
    return text if len(text) <= chars else text[: chars - 1] + "…"


@dataclass(frozen=True)
class _Frame:
    """The plot area in pixels and the time span it shows."""

    left: float
    top: float
    right: float
    bottom: float
    start: datetime
    end: datetime

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        return self.left + (self.right - self.left) * (at - self.start).total_seconds() / span

    def y(self, fraction: float) -> float:
        return self.bottom - (self.bottom - self.top) * min(1.0, max(0.0, fraction))


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the chart")
    return at.astimezone(UTC)


def _ticks(start: datetime, end: datetime, zone: ZoneInfo, max_ticks: int) -> tuple[list[datetime], int]:
    """Tick times between ``start`` and ``end`` on round local times, and their spacing in minutes."""
    span_min = (end - start).total_seconds() / 60
    step = next((s for s in STEPS_MIN if span_min / s <= max_ticks), 1440 * math.ceil(span_min / 1440 / max_ticks))
    first = start.astimezone(zone)
    if step < 60:  # whole-hour zone offsets: stepping in absolute time stays on round minutes
        at = first.replace(minute=first.minute - first.minute % step, second=0, microsecond=0).astimezone(UTC)
        ticks = [at + timedelta(minutes=step * i) for i in range(int(span_min / step) + 2)]
    else:  # on the local wall clock, so days start at local midnight across DST changes
        per_day = range(0, 1440, step) if step < 1440 else (0,)
        days = (first.date() + timedelta(days=d) for d in range(int(span_min / 1440) + 2))
        ticks = [datetime.combine(day, time(m // 60, m % 60), zone) for day in days for m in per_day
                 if step < 1440 or (day - first.date()).days % (step // 1440) == 0]
    return sorted({t.astimezone(UTC) for t in ticks if start <= t <= end}), step


def _time_labels(frame: _Frame, zone: ZoneInfo, max_ticks: int) -> Iterator[str]:
    ticks, step = _ticks(frame.start, frame.end, zone, max_ticks)
    previous_day = None
    for at in ticks:
        x, local = frame.x(at), at.astimezone(zone)
        yield (f'<line class="vgrid" x1="{x:.1f}" y1="{frame.top:.1f}" x2="{x:.1f}" y2="{frame.bottom:.1f}" '
               'stroke="#EEEEEE"/>')
        day = f"{local.day}. {local.month}."
        lines = [day] if step >= 1440 else [local.strftime("%H:%M")] + ([day] if local.date() != previous_day else [])
        previous_day = local.date()
        spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 13}">{_esc(s)}</tspan>' for i, s in enumerate(lines))
        yield f'<text x="{x:.1f}" y="{frame.bottom + 15:.1f}" text-anchor="middle" fill="#444444">{spans}</text>'


def _hline(frame: _Frame, fraction: float, css: str, colour: str, dash: str, label: str, above: bool) -> str:
    y = frame.y(fraction)
    text_y = y - 4 if above else y + 12
    return (f'<line class="{css}" x1="{frame.left:.1f}" y1="{y:.1f}" x2="{frame.right:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>'
            f'<text class="{css}-label" x="{frame.right - 4:.1f}" y="{text_y:.1f}" text-anchor="end" '
            f'fill="{colour}" {HALO}>{_esc(label)}</text>')


def utilization_svg(title: str, series: Mapping[str, Sequence[tuple[datetime, float]]], *,
                    threshold: float = 0.70, clear: float | None = None, tz: str = "Europe/Ljubljana",
                    width: int = 800, height: int = 320, highlight: Sequence[tuple[datetime, datetime]] = ()) -> str:
    """A standalone SVG line chart of utilization (fractions 0–1) over time, one line per named series.

    The y axis runs 0–100 %; the x axis is labelled in local time of ``tz``. The upgrade ``threshold``
    is a red dashed line, ``clear`` (if given) a grey one, and each ``highlight`` span (the evidence
    periods) is shaded. Values are clamped to 0–1; points that are not finite are skipped.
    """
    zone = ZoneInfo(tz)
    lines = {name: sorted((_aware(at), v) for at, v in points if math.isfinite(v)) for name, points in series.items()}
    spans = [(_aware(a), _aware(b)) for a, b in highlight]
    times = [at for points in lines.values() for at, _ in points]
    has_data = bool(times)
    times += [t for span in spans for t in span] if has_data else []
    start, end = (min(times), max(times)) if has_data else (datetime(2000, 1, 1, tzinfo=UTC),) * 2
    if end - start < timedelta(minutes=1):
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    frame = _Frame(left=48, top=36, right=width - 16, bottom=height - 62, start=start, end=end)
    mid_x, mid_y = (frame.left + frame.right) / 2, (frame.top + frame.bottom) / 2

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}" font-size="11">',
           f"<title>{_esc(title)}</title>",
           f'<rect width="{width}" height="{height}" fill="#FFFFFF"/>',
           f'<text class="title" x="{frame.left:.1f}" y="22" font-size="14" font-weight="bold" fill="#222222">'
           f"{_esc(_fit(title, width - frame.left - 16, 14))}</text>"]
    if has_data:
        for a, b in spans:
            x1, x2 = sorted((frame.x(max(a, start)), frame.x(min(b, end))))
            out.append(f'<rect class="highlight" x="{x1:.1f}" y="{frame.top:.1f}" width="{max(x2 - x1, 1.0):.1f}" '
                       f'height="{frame.bottom - frame.top:.1f}" fill="{HIGHLIGHT_COLOUR}" fill-opacity="0.25"/>')
        out.extend(_time_labels(frame, zone, max(2, int((frame.right - frame.left) / TICK_SPACING_PX))))
    for pct in range(0, 101, 20):
        y = frame.y(pct / 100)
        out.append(f'<line class="grid" data-pct="{pct}" x1="{frame.left:.1f}" y1="{y:.1f}" x2="{frame.right:.1f}" '
                   f'y2="{y:.1f}" stroke="{"#999999" if pct == 0 else "#DDDDDD"}"/>'
                   f'<text x="{frame.left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="#444444">{pct} %</text>')
    legend: list[tuple[str, str]] = []
    for n, (name, points) in enumerate(lines.items()):
        colour = PALETTE[n % len(PALETTE)]
        legend.append((name, f'stroke="{colour}" stroke-width="2"'))
        coords = " ".join(f"{frame.x(at):.1f},{frame.y(v):.1f}" for at, v in points)
        out.append(f'<polyline class="series" data-series="{_esc(name)}" points="{coords}" fill="none" '
                   f'stroke="{colour}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"/>')
        if len(points) == 1:
            [(at, v)] = points
            out.append(f'<circle cx="{frame.x(at):.1f}" cy="{frame.y(v):.1f}" r="3" fill="{colour}"/>')
    if clear is not None:
        out.append(_hline(frame, clear, "clear", CLEAR_COLOUR, "2 3", f"{_pct(clear)} % clear level", False))
    out.append(_hline(frame, threshold, "threshold", THRESHOLD_COLOUR, "6 4",
                      f"{_pct(threshold)} % upgrade threshold", True))
    if not has_data:
        out.append(f'<text class="no-data" x="{mid_x:.1f}" y="{mid_y:.1f}" text-anchor="middle" font-size="14" '
                   'fill="#888888">no data</text>')
    if spans and has_data:
        legend.append(("evidence period", f'stroke="{HIGHLIGHT_COLOUR}" stroke-opacity="0.5" stroke-width="8"'))
    x, y = frame.left, height - 12
    for name, stroke in legend:
        out.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" {stroke}/>'
                   f'<text x="{x + 23:.1f}" y="{y:.1f}" fill="#222222">{_esc(name)}</text>')
        x += 23 + len(name) * 6.6 + 16
    out.append(f'<text x="{width - 16}" y="{y:.1f}" text-anchor="end" fill="#888888">time: {_esc(tz)}</text>')
    out.append("</svg>")
    return "\n".join(out)
