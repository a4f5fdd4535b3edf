"""The console's chart of a record: every measurement's speed per direction against the contract's normally
available and minimum speeds, as a standalone SVG (server-rendered, no script)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 180, 44, 10, 12, 24
COLOURS = {"counted": "#2761c9", "set_aside": "#b0b7c3"}
LINES = {"normal": ("#e69f00", "6 3"), "minimum": ("#d62728", "2 3")}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def speeds_svg(direction: str, measurements: list[dict[str, Any]], speeds: dict[str, float], labels: dict[str, str],
               chart_id: str, zone: ZoneInfo) -> str:
    """One direction's chart: a dot per measurement (grey when set aside), the normal and minimum speed lines, the
    first and last measurement's local time."""
    key = f"{direction}_mbps"
    points = [(datetime.fromisoformat(m["time_utc"]).timestamp(), float(m[key]), m["counted"]) for m in measurements]
    top = max([speeds["maximum"], *(v for _, v, _ in points)]) * 1.05 or 1.0
    start = min((t for t, _, _ in points), default=0.0)
    span = (max((t for t, _, _ in points), default=1.0) - start) or 1.0
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - start) / span * width

    def y(v: float) -> float:
        return TOP + height - v / top * height

    parts = [f'<svg id="{chart_id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{_esc(labels["title"])}">',
             f'<line x1="{LEFT}" y1="{TOP + height}" x2="{WIDTH - RIGHT}" y2="{TOP + height}" stroke="#9aa3b2"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" class="label">{top:.0f}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + height}" text-anchor="end" class="label">0</text>',
             f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" text-anchor="middle" class="label">'
             f'{_esc(labels["title"])} (Mbit/s)</text>']
    if points:
        first, last = (datetime.fromtimestamp(t, zone).strftime("%d.%m. %H:%M") for t in (start, start + span))
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" class="label">{first}</text>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end" class="label">{last}</text>')
    for name, (colour, dash) in LINES.items():
        level = y(speeds[name])
        parts.append(f'<line class="{name}" x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" '
                     f'stroke="{colour}" stroke-dasharray="{dash}" stroke-width="1.5"/>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{level - 3:.1f}" text-anchor="end" class="label" '
                     f'fill="{colour}">{_esc(labels[name])} {speeds[name]:g}</text>')
    for t, v, counted in points:
        colour = COLOURS["counted" if counted else "set_aside"]
        parts.append(f'<circle class="m" cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)
