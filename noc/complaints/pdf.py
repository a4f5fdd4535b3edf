"""The evidence pack's PDF (fpdf2): for the subscriber and the regulator, from the pack's JSON data.

Prose is set in the DejaVu Sans shipped beside this module (cut down to Latin: Slovenian names need č, š, ž); the
long measurement table in the PDF core font Courier, one text run per row (fpdf2's cheapest way to set text).
The creation date is the pack's generation time, so the same data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONTS = Path(__file__).with_name("fonts")
SANS = "dejavu"
MONO = "Courier"
FOOTER_FONT = "Helvetica"
VERDICT_WORDS = {"discrepancy": "DISCREPANCY", "no_discrepancy": "NO DISCREPANCY",
                 "insufficient_evidence": "INSUFFICIENT EVIDENCE", "met": "met", "not_met": "NOT MET",
                 "not_judged": "not judged"}
SPEED_LINES = (("maximum", (200, 40, 40), "maximum"), ("normal", (230, 140, 0), "normally available"),
               ("minimum", (120, 120, 120), "minimum"))
MEASURED = {"download": (30, 90, 200), "upload": (20, 150, 80)}
ROW_HEIGHT = 3.1
TABLE_HEADER = (f"{'#':>5} {'local time':16} {'test id':37} {'down Mbit/s':>11} {'up Mbit/s':>9} {'ping':>6} "
                f"{'medium':6} {'counted':14} {'seg.dn':>6} {'seg.up':>6} {'CPE':11}")
MARKERS_UP_TO = 400
"""Up to this many measurements the chart marks each one; beyond, it draws a line through them."""
LINE_BUCKETS = 800
"""A line through more measurements keeps each bucket's lowest and highest (the page cannot show more)."""


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(SANS, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(SANS, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(True, margin=14)
        self.set_margins(12, 12, 12)

    def footer(self) -> None:  # a core font (Latin-1 text) on every page: a TrueType cell costs far more
        self.set_y(-10)
        self.set_font(FOOTER_FONT, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 4, f"{self.footer_text} · page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


class EvidenceDocument:
    """Lays out one pack's data."""

    def __init__(self, data: dict[str, Any], generated_at: datetime) -> None:
        self.data, self.case, self.record = data, data["case"], data["record"]
        pack = data["pack"]
        self.pdf = _Pdf(f"Complaint {self.case['id']} · evidence pack version {pack['version']} · "
                        f"generated {pack['generated_at']}")
        self.pdf.set_creation_date(generated_at)
        self.pdf.set_title(f"Speed complaint {self.case['id']}: evidence (version {pack['version']})")
        self.pdf.set_author("noc")
        self.pdf.set_subject("Speed complaint evidence pack")

    def render(self) -> bytes:
        """The PDF's bytes."""
        pdf = self.pdf
        pdf.add_page()
        self._title()
        self._subscriber()
        self._deadlines()
        self._method()
        self._verdict()
        self._criteria()
        self._causes()
        self._context()
        pdf.add_page()
        self._heading("Measured speeds against the package's speeds")
        for direction in ("download", "upload"):
            self._chart(direction)
        pdf.add_page()
        self._measurements()
        return bytes(pdf.output())

    # --- blocks --------------------------------------------------------------------------------------------

    def _heading(self, text: str) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_font(SANS, "B", 11)
        pdf.multi_cell(0, 5.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(SANS, "", 8.5)

    def _line(self, text: str, bold: bool = False, height: float = 4.2) -> None:
        pdf = self.pdf
        pdf.set_font(SANS, "B" if bold else "", 8.5)
        pdf.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(SANS, "", 8.5)

    def _pairs(self, rows: Sequence[tuple[str, str]], key_width: float = 52) -> None:
        pdf = self.pdf
        for key, value in rows:
            pdf.set_font(SANS, "B", 8.5)
            pdf.cell(key_width, 4.4, key)
            pdf.set_font(SANS, "", 8.5)
            pdf.multi_cell(0, 4.4, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _grid(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        pdf = self.pdf
        pdf.set_font(SANS, "B", 8)
        pdf.set_fill_color(230, 233, 240)
        for text, width in zip(header, widths, strict=True):
            pdf.cell(width, 5, text, border=1, fill=True)
        pdf.ln(5)
        pdf.set_font(SANS, "", 8)
        for row in rows:
            for text, width in zip(row, widths, strict=True):
                pdf.cell(width, 4.6, text, border=1)
            pdf.ln(4.6)

    def _title(self) -> None:
        pdf, pack = self.pdf, self.data["pack"]
        pdf.set_font(SANS, "B", 15)
        pdf.cell(0, 8, f"Speed complaint {self.case['id']}: evidence", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._line(f"Evidence pack version {pack['version']}, generated {pack['generated_at']} ({pack['timezone']}). "
                   "The same data is in record.json and measurements.csv; manifest.json and SHA256SUMS hold the "
                   "SHA-256 of every file.")

    def _subscriber(self) -> None:
        record = self.record
        self._heading("Subscriber and package")
        package = record["package"]
        self._pairs([("Subscriber", f"{record['subscriber']['name']} ({record['subscriber']['number']})"),
                     ("Package", f"{package['name']} ({package['code']})")])
        self.pdf.ln(1)
        rows = [[label, _fmt(package["download"][key]), _fmt(package["upload"][key])]
                for key, _, label in SPEED_LINES]
        self._grid(["speed (Mbit/s)", "download", "upload"], rows, [60, 40, 40])

    def _deadlines(self) -> None:
        case = self.case
        self._heading("Complaint and deadlines")
        base = (f"invoice of {case['invoice_date']}" if case.get("invoice_date") else
                f"event of {case['event_date']}")
        window = case["regulator_window"]
        decision = (f"{case['outcome']} on {case['decided_on']}" + (f", remedy: {case['remedy']}"
                                                                    if case.get("remedy") else "")
                    if case.get("decided_on") else "not decided yet")
        regulator = (f"{window['opens']} to {window['closes']} (15 days from the decision)"
                     if window["basis"] == "decision" else
                     f"{window['opens']} to {window['closes']} if no decision comes (30 days from lodging)")
        rows = [("Channel", case["channel"]), ("Learned of the problem", str(case["learned_on"])),
                ("Complaint concerns", base), ("Lodged on", str(case["lodged_on"])),
                ("Lodging deadline", str(case["lodging_deadline"]) + (" (late, accepted: "
                                                                      f"{case['late_override_reason']})"
                                                                      if case.get("late") else "")),
                ("Decision due", str(case["decision_due"])), ("Decision", decision),
                ("Regulator (AKOS) window", regulator)]
        if case.get("description"):
            rows.insert(1, ("Description", case["description"]))
        self._pairs(rows)
        self._line("Deadlines falling on a Saturday, Sunday or Slovenian public holiday move to the next working day.")

    def _method(self) -> None:
        method = self.record["profile"]
        self._heading(f"Method: {method['title']}")
        period = self.record["period"]
        self._line(f"Profile {method['name']}; measurement period {period['from']} to {period['to']} "
                   f"({period['timezone']} local days).")
        self._line("Valid campaign: " + "; ".join(method["campaign"]) + ".")
        for criterion in method["criteria"]:
            self._line(f"Criterion {criterion['name']}: {criterion['description']}")

    def _verdict(self) -> None:
        record, campaign = self.record, self.record["campaign"]
        self._heading("Verdict")
        directions = ", ".join(f"{d}: {VERDICT_WORDS[v]}" for d, v in record["directions"].items())
        self._line(f"{VERDICT_WORDS[record['verdict']]} ({directions})", bold=True)
        state = "valid" if campaign["valid"] else "NOT valid"
        self._line(f"The campaign is {state}: {campaign['counted']} of {campaign['measurements']} measurements count.")
        for check in campaign["checks"]:
            self._line(f"{'✓' if check['ok'] else '✗'} {check['rule']}: {check['detail']}")
        if campaign["missing"]:
            self._line("Missing: " + "; ".join(campaign["missing"]) + (f" ({campaign['conditions']})."
                                                                       if campaign["conditions"] else "."))

    def _criteria(self) -> None:
        self._heading("Criteria")
        rows = {m["id"]: n for n, m in enumerate(self.record["measurements"], start=1)}
        for result in self.record["criteria"]:
            ids = result["measurements"]
            shown = ", ".join(f"#{rows[i]}" for i in ids[:15]) + (f" and {len(ids) - 15} more" if len(ids) > 15
                                                                     else "")
            self._line(f"{result['name']} ({result['direction']}): {VERDICT_WORDS[result['verdict']]}", bold=True)
            self._line(f"{result['detail']}" + (f". Measurements behind it (# of the table): {shown}" if ids else ""))

    def _causes(self) -> None:
        self._heading(f"Most likely cause: {self.record['cause']}")
        for cause in self.record["causes"]:
            self._line(f"{cause['cause']}: {cause['evidence']}")
        if not self.record["causes"]:
            self._line("No congestion of the access segment, no bad CPE health and no Wi-Fi gap were found "
                       "at the times of the slow measurements.")

    def _context(self) -> None:
        measurements = self.record["measurements"]
        self._heading("Network context")
        segments = sorted({m["context"]["segment"] for m in measurements if m["context"]["segment"]})
        grades: dict[str, int] = {}
        for m in measurements:
            health = m["context"]["cpe_health"]
            key = health["grade"] if health else "no reading"
            grades[key] = grades.get(key, 0) + 1
        media: dict[str, int] = {}
        for m in measurements:
            media[m["medium"]] = media.get(m["medium"], 0) + 1
        for direction in ("down", "up"):
            known = [m["context"]["utilization"][direction] for m in measurements
                     if m["context"]["utilization"][direction] is not None]
            span = f"{min(known):.0%} to {max(known):.0%} over {len(known)} measurements" if known else "no data"
            self._line(f"Access segment {', '.join(segments) or '(none known)'} {direction}stream utilization at "
                       f"the measurements: {span}.")
        self._line("CPE line health around the measurements: " + ", ".join(f"{k} {v}" for k, v in
                                                                          sorted(grades.items())) + ".")
        self._line("Connection: " + ", ".join(f"{k.upper()} {v}" for k, v in sorted(media.items())) + ".")

    def _chart(self, direction: str) -> None:
        pdf, record = self.pdf, self.record
        measurements = record["measurements"]
        speeds = record["package"][direction]
        values = [m[f"{direction}_mbps"] for m in measurements]
        top = max([*values, speeds["maximum"]]) * 1.1 or 1.0
        left, width, height = pdf.l_margin + 12, pdf.epw - 14, 78
        pdf.set_font(SANS, "B", 9)
        pdf.cell(0, 6, f"{direction.capitalize()} per measurement (Mbit/s)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        bottom = pdf.get_y() + height
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.line(left, bottom, left + width, bottom)
        pdf.line(left, bottom - height, left, bottom)
        pdf.set_font(SANS, "", 6.5)
        for k in range(5):
            value = top * k / 4
            y = bottom - height * k / 4
            pdf.text(pdf.l_margin, y + 1, f"{value:.0f}")
        count = len(values)
        points = [(left + width * (i + 0.5) / max(count, 1), bottom - height * v / top) for i, v in enumerate(values)]
        pdf.set_draw_color(*MEASURED[direction])
        pdf.set_fill_color(*MEASURED[direction])
        if count <= MARKERS_UP_TO:
            for x, y in points:
                pdf.circle(x, y, 0.8, style="F")
        elif points:
            pdf.set_line_width(0.1)
            pdf.polyline(_thinned(points))
        pdf.set_line_width(0.4)
        for key, color, label in SPEED_LINES:  # over the measurements, so a dense cloud never hides them
            y = bottom - height * speeds[key] / top
            pdf.set_draw_color(*color)
            pdf.set_dash_pattern(dash=1.5, gap=1)
            pdf.line(left, y, left + width, y)
            pdf.set_dash_pattern()
            text = f"{label} {speeds[key]:g}"
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(left + width - 40.5, y - 3.2, pdf.get_string_width(text) + 1, 2.9, style="F")
            pdf.set_text_color(*color)
            pdf.text(left + width - 40, y - 0.8, text)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.set_y(bottom + 1)
        pdf.cell(0, 4, f"measurements 1 to {count} in time order (the # of the table below)", align="C",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)

    def _measurements(self) -> None:
        pdf = self.pdf
        measurements = self.record["measurements"]
        self._heading(f"Every measurement ({len(measurements)})")
        self._line("Times are local. counted: whether the method counts it (else why not). seg.dn / seg.up: the "
                   "access segment's utilization in the rollup period of the measurement. CPE: line health graded "
                   "around it.")
        pdf.set_font(MONO, "B", 6.5)
        y = pdf.get_y() + 3
        pdf.text(pdf.l_margin, y, TABLE_HEADER)
        pdf.set_font(MONO, "", 6.5)
        limit = pdf.h - pdf.b_margin
        for n, m in enumerate(measurements, start=1):
            y += ROW_HEIGHT
            if y > limit:
                pdf.add_page()
                pdf.set_font(MONO, "B", 6.5)
                y = pdf.t_margin + 3
                pdf.text(pdf.l_margin, y, TABLE_HEADER)
                pdf.set_font(MONO, "", 6.5)
                y += ROW_HEIGHT
            context = m["context"]
            health = context["cpe_health"]
            status = "yes" if m["counted"] else f"no:{m['set_aside']}"
            pdf.text(pdf.l_margin, y,
                     f"{n:>5} {m['local_time'][:16].replace('T', ' '):16} {m['open_test_uuid']:37} "
                     f"{m['download_mbps']:>11.2f} {m['upload_mbps']:>9.2f} {m['ping_ms']:>6.1f} {m['medium']:6} "
                     f"{status:14} {_share(context['utilization']['down']):>6} "
                     f"{_share(context['utilization']['up']):>6} {health['grade'] if health else '-':11}")
        pdf.set_y(y + ROW_HEIGHT)


def _thinned(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most two points per bucket of :data:`LINE_BUCKETS`: the lowest and the highest, in order."""
    if len(points) <= 2 * LINE_BUCKETS:
        return points
    size = len(points) / LINE_BUCKETS
    out: list[tuple[float, float]] = []
    for k in range(LINE_BUCKETS):
        bucket = points[round(k * size):round((k + 1) * size)]
        low, high = min(bucket, key=lambda p: -p[1]), min(bucket, key=lambda p: p[1])  # y grows downwards
        out.extend(sorted({low, high}))
    return out


def render_pdf(data: dict[str, Any], generated_at: datetime) -> bytes:
    """The evidence PDF of one pack's data (``{"pack", "case", "record"}``)."""
    return EvidenceDocument(data, generated_at).render()
