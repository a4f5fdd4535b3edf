"""Generate the Grafana dashboards in ``dashboards/json/`` (stdlib only).

    python dashboards/build.py           # rewrite the JSON files
    python dashboards/build.py --check   # exit 1 if a committed file differs from what this script builds

Every panel and query reads the provisioned InfluxDB data source (uid ``noc-influxdb``, Flux) and only the
measurements, fields and tags of docs/series.md. Grafana expands ``${var}`` in Flux; ``v.timeRangeStart``,
``v.timeRangeStop`` and ``v.windowPeriod`` come from Grafana as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "json"
DATASOURCE = {"type": "influxdb", "uid": "noc-influxdb"}
BUCKET = "noc"
SCHEMA_VERSION = 39

Json = dict[str, Any]


# --- Flux pieces --------------------------------------------------------------------------------------------

def source(start: str = "v.timeRangeStart", stop: str | None = "v.timeRangeStop") -> str:
    """``from(bucket) |> range(...)``; ``stop=None`` reads up to now."""
    window = f"start: {start}, stop: {stop}" if stop else f"start: {start}"
    return f'from(bucket: "{BUCKET}")\n  |> range({window})'


def measurement(name: str, *fields: str) -> str:
    """A filter on one measurement and one or more of its fields."""
    picked = " or ".join(f'r._field == "{f}"' for f in fields)
    if len(fields) > 1:
        picked = f"({picked})"
    return f'  |> filter(fn: (r) => r._measurement == "{name}" and {picked})'


SEGMENT_VARS = '  |> filter(fn: (r) => r.segment =~ /^${segment:regex}$/ and r.direction =~ /^${direction:regex}$/)'
DEVICE_VAR = "  |> filter(fn: (r) => r.device =~ /${device}/)"


def flux(*lines: str) -> str:
    return "\n".join(lines)


def histogram(name: str, field: str, low: int, high: int, grades: tuple[tuple[float, float], tuple[float, float]]
              | None = None) -> str:
    """Newest value of every series, counted per 1-unit bucket in [low, high] (outliers in the end buckets).

    With ``grades`` ((good_min, good_max), (acceptable_min, acceptable_max)) the counts are split into
    ``good`` / ``marginal`` / ``bad`` columns (stacked bars); otherwise one column, ``count``.
    """
    label = f'if r.b <= {low} then "< {low + 1}" else if r.b >= {high} then "≥ {high}" else string(v: r.b)'
    if grades is None:
        tail = ("  |> map(fn: (r) => ({b: int(v: math.floor(x: float(v: r._value))), n: 1}))",
                '  |> group(columns: ["b"])',
                '  |> sum(column: "n")',
                "  |> group()",
                '  |> sort(columns: ["b"])',
                f"  |> map(fn: (r) => ({{bucket: {label}, count: r.n}}))")
    else:
        (g_lo, g_hi), (a_lo, a_hi) = grades
        grade = (f'if x >= {g_lo} and x <= {g_hi} then "good" '
                 f'else if x >= {a_lo} and x <= {a_hi} then "marginal" else "bad"')
        tail = ("  |> map(fn: (r) => {\n"
                "      x = float(v: r._value)\n"
                f"      return {{b: int(v: math.floor(x: x)), grade: {grade}, n: 1}}\n"
                "    })",
                '  |> group(columns: ["b", "grade"])',
                '  |> sum(column: "n")',
                "  |> group()",
                '  |> pivot(rowKey: ["b"], columnKey: ["grade"], valueColumn: "n")',
                '  |> sort(columns: ["b"])',
                f"  |> map(fn: (r) => ({{r with bucket: {label}}}))",
                '  |> drop(columns: ["b"])')
    # The bucket is clamped before the label so that outliers land in the end buckets.
    clamp = f"  |> map(fn: (r) => ({{r with _value: math.mMax(x: {float(low)}, y: math.mMin(x: {float(high)}, " \
            "y: float(v: r._value)))}))"
    return flux('import "math"', "", source("-${recent}", None), measurement(name, field), "  |> last()",
                "  |> group()", clamp, *tail)


# --- panels -------------------------------------------------------------------------------------------------

class Layout:
    """Places panels left to right on a 24-column grid, wrapping to a new row."""

    def __init__(self) -> None:
        self.x = self.y = self.row_h = 0
        self.next_id = 1

    def place(self, w: int, h: int) -> Json:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos


def target(query: str, ref: str = "A") -> Json:
    return {"refId": ref, "datasource": DATASOURCE, "query": query}


def panel(layout: Layout, kind: str, title: str, queries: list[str], *, w: int = 12, h: int = 8,
          description: str = "", defaults: Json | None = None, overrides: list[Json] | None = None,
          options: Json | None = None) -> Json:
    p = {
        "id": layout.next_id,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": layout.place(w, h),
        "targets": [target(q, chr(ord("A") + i)) for i, q in enumerate(queries)],
        "fieldConfig": {"defaults": defaults or {}, "overrides": overrides or []},
        "options": options or {},
    }
    layout.next_id += 1
    return p


def thresholds(*steps: tuple[str, float | None]) -> Json:
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def timeseries_defaults(unit: str, **extra: Any) -> Json:
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never", "spanNulls": False}
    custom.update(extra.pop("custom", {}))
    return {"unit": unit, "color": {"mode": "palette-classic"}, "custom": custom, **extra}


def legend(*calcs: str) -> Json:
    return {"legend": {"displayMode": "table", "placement": "right", "calcs": list(calcs), "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"}}


def stat(layout: Layout, title: str, query: str, description: str, steps: Json, unit: str = "none") -> Json:
    return panel(layout, "stat", title, [query], w=6, h=4, description=description,
                 defaults={"unit": unit, "noValue": "0", "thresholds": steps, "color": {"mode": "thresholds"}},
                 options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                          "colorMode": "background", "graphMode": "none", "textMode": "value"})


def by_name(name: str, **props: Any) -> Json:
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": k.replace("__", "."), "value": v} for k, v in props.items()]}


def bars(layout: Layout, title: str, query: str, description: str, graded: bool) -> Json:
    overrides = []
    if graded:
        for grade, color in (("good", "green"), ("marginal", "yellow"), ("bad", "red")):
            overrides.append(by_name(grade, color={"mode": "fixed", "fixedColor": color}))
    return panel(layout, "barchart", title, [query], w=8, h=9, description=description,
                 defaults={"unit": "none", "color": {"mode": "palette-classic"},
                           "custom": {"fillOpacity": 80, "lineWidth": 0}},
                 overrides=overrides,
                 options={"xField": "bucket", "orientation": "vertical", "stacking": "normal" if graded else "none",
                          "showValue": "never", "barWidth": 0.9, "groupWidth": 0.7, "xTickLabelSpacing": 100,
                          "legend": {"displayMode": "list", "placement": "bottom", "showLegend": graded},
                          "tooltip": {"mode": "multi", "sort": "none"}})


# --- variables ----------------------------------------------------------------------------------------------

ALL = {"selected": True, "text": ["All"], "value": ["$__all"]}


def query_variable(name: str, label: str, query: str) -> Json:
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE, "query": query,
            "definition": query, "refresh": 1, "sort": 1, "multi": True, "includeAll": True, "allValue": ".*",
            "current": ALL, "options": [], "regex": "", "hide": 0}


def custom_variable(name: str, label: str, values: list[str], default: str, *, multi: bool = False) -> Json:
    current = ALL if multi else {"selected": True, "text": default, "value": default}
    options = [{"selected": not multi and v == default, "text": v, "value": v} for v in values]
    if multi:
        options.insert(0, {"selected": True, "text": "All", "value": "$__all"})
    return {"name": name, "label": label, "type": "custom", "query": ",".join(values), "multi": multi,
            "includeAll": multi, "allValue": ".*" if multi else None, "current": current, "options": options,
            "hide": 0}


def textbox_variable(name: str, label: str, default: str) -> Json:
    return {"name": name, "label": label, "type": "textbox", "query": default, "hide": 0,
            "current": {"selected": False, "text": default, "value": default},
            "options": [{"selected": True, "text": default, "value": default}]}


RECENT = custom_variable("recent", "Newest reading within", ["15m", "30m", "1h", "3h", "6h", "24h"], "1h")


def dashboard(uid: str, title: str, description: str, panels: list[Json], variables: list[Json], *,
              time_from: str = "now-24h", refresh: str = "1m") -> Json:
    return {
        "id": None,
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["noc"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "refresh": refresh,
        "time": {"from": time_from, "to": "now"},
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["noc"], "asDropdown": True, "title": "noc dashboards",
                   "includeVars": False, "keepTime": True}],
        "templating": {"list": variables},
        "panels": panels,
    }


# --- the dashboards -----------------------------------------------------------------------------------------

def segment_capacity() -> Json:
    lay = Layout()
    segment_values = flux('import "influxdata/influxdb/schema"', "",
                          f'schema.tagValues(bucket: "{BUCKET}", tag: "segment", '
                          'predicate: (r) => r._measurement == "segment", start: -30d)')
    red70 = thresholds(("green", None), ("red", 0.7))
    now = flux(source("-${recent}", None), measurement("segment", "utilization"), SEGMENT_VARS, "  |> last()")
    panels = [
        stat(lay, "Segment directions at or above 70 % now",
             flux(now, "  |> filter(fn: (r) => r._value >= 0.7)", "  |> group()", "  |> count()"),
             "Newest utilization of each selected segment direction; 70 % is where noc opens an upgrade ticket "
             "(sustained, see docs/capacity-rules.md).", thresholds(("green", None), ("red", 1))),
        stat(lay, "Highest utilization now", flux(now, "  |> group()", "  |> max()"),
             "The busiest selected segment direction, newest reading.", red70, unit="percentunit"),
        stat(lay, "Segment directions reporting",
             flux(now, "  |> group()", "  |> count()"),
             "Selected segment directions with a reading within the chosen window.", thresholds(("blue", None))),
        stat(lay, "Newest segment reading",
             flux(now, "  |> group()", '  |> max(column: "_time")',
                  '  |> map(fn: (r) => ({_value: float(v: uint(v: now()) - uint(v: r._time)) / 1000000000.0}))'),
             "Seconds since the newest segment sample (segments are polled every NOC_POLL_SEGMENT_INTERVAL_S).",
             thresholds(("green", None), ("orange", 300), ("red", 900)), unit="s"),
        panel(lay, "timeseries", "Utilization by segment and direction",
              [flux(source(), measurement("segment", "utilization"), SEGMENT_VARS,
                    "  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)",
                    '  |> keep(columns: ["_time", "_value", "segment", "direction"])')],
              w=24, h=11,
              description="Peak utilization per interval (sum of member rates over sum of capacities, 0..1). The red "
                          "line is the 70 % upgrade threshold.",
              defaults=timeseries_defaults(
                  "percentunit", min=0, decimals=1, thresholds=red70,
                  displayName="${__field.labels.segment} ${__field.labels.direction}",
                  custom={"axisSoftMax": 1, "thresholdsStyle": {"mode": "line"}}),
              options=legend("max", "mean", "lastNotNull")),
        panel(lay, "table", "Current utilization",
              [flux(source("-${recent}", None), measurement("segment", "utilization", "bps", "capacity_bps"),
                    SEGMENT_VARS, "  |> last()",
                    '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
                    "  |> group()",
                    '  |> keep(columns: ["segment", "direction", "utilization", "bps", "capacity_bps", "_time"])',
                    '  |> sort(columns: ["utilization"], desc: true)')],
              w=12, h=12, description="Newest reading of every selected segment direction, busiest first.",
              defaults={"custom": {"align": "auto", "cellOptions": {"type": "auto"}}, "thresholds": red70},
              overrides=[
                  by_name("utilization", unit="percentunit", decimals=1, displayName="Utilization",
                          custom__cellOptions={"type": "color-background", "mode": "basic"}),
                  by_name("bps", unit="bps", displayName="Traffic"),
                  by_name("capacity_bps", unit="bps", displayName="Capacity"),
                  by_name("segment", displayName="Segment"),
                  by_name("direction", displayName="Direction"),
                  by_name("_time", displayName="Polled at", unit="dateTimeAsLocal"),
              ],
              options={"showHeader": True, "sortBy": [{"displayName": "Utilization", "desc": True}],
                       "footer": {"show": False, "reducer": ["sum"], "fields": ""}}),
        panel(lay, "timeseries", "Traffic and capacity",
              [flux(source(), measurement("segment", field), SEGMENT_VARS,
                    "  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)",
                    '  |> keep(columns: ["_time", "_value", "segment", "direction"])')
               for field in ("bps", "capacity_bps")],
              w=12, h=12, description="Peak traffic per interval (solid) against the segment's capacity (dashed).",
              defaults=timeseries_defaults("bps", min=0),
              overrides=[
                  {"matcher": {"id": "byFrameRefID", "options": "A"},
                   "properties": [{"id": "displayName",
                                   "value": "${__field.labels.segment} ${__field.labels.direction}"}]},
                  {"matcher": {"id": "byFrameRefID", "options": "B"},
                   "properties": [{"id": "displayName",
                                   "value": "${__field.labels.segment} ${__field.labels.direction} capacity"},
                                  {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]},
              ],
              options=legend("max")),
    ]
    variables = [
        query_variable("segment", "Segment", segment_values),
        custom_variable("direction", "Direction", ["down", "up"], "", multi=True),
        RECENT,
    ]
    return dashboard("noc-segment-capacity", "Segment capacity",
                     "Occupancy of access segments (CMTS service groups, PON ports) against the 70 % rule.",
                     panels, variables, time_from="now-7d")


def cpe_fleet_health() -> Json:
    lay = Layout()
    ds_power_bad = "r._value < -15.0 or r._value > 15.0"

    def count_where(name: str, field: str, condition: str) -> str:
        return flux(source("-${recent}", None), measurement(name, field), "  |> last()",
                    f"  |> filter(fn: (r) => {condition})", "  |> group()", "  |> count()")

    red_if_any = thresholds(("green", None), ("red", 1))
    panels = [
        stat(lay, "CPEs reporting",
             flux(source("-${recent}", None), measurement("cm_status", "status"), "  |> last()", "  |> group()",
                  '  |> distinct(column: "device")', "  |> count()"),
             "Cable modems / gateways with a status reading within the chosen window.", thresholds(("blue", None))),
        stat(lay, "DS channels outside ±15 dBmV", count_where("cm_downstream", "power_dbmv", ds_power_bad),
             "Downstream channels whose newest receive power is bad (good −7..+7, acceptable −15..+15 dBmV).",
             red_if_any),
        stat(lay, "DS channels with SNR below 30 dB", count_where("cm_downstream", "snr_db", "r._value < 30.0"),
             "Bad on any modulation (64-QAM needs ≥ 30 dB, 256-QAM ≥ 33 dB; good from 33 / 35 dB).", red_if_any),
        stat(lay, "US channels above 51 dBmV", count_where("cm_upstream", "tx_power_dbmv", "r._value > 51.0"),
             "Upstream transmit power beyond the acceptable range (good 35..49, acceptable up to 51 dBmV): no "
             "headroom left, usually loss in the cabling.", red_if_any),
        bars(lay, "Downstream receive power (dBmV)",
             histogram("cm_downstream", "power_dbmv", -20, 20, ((-7.0, 7.0), (-15.0, 15.0))),
             "Newest power of every downstream channel of every CPE, per 1 dBmV, graded as in "
             "collectors/snmp/profiles/health.yaml.", graded=True),
        bars(lay, "Downstream SNR (dB)", histogram("cm_downstream", "snr_db", 20, 50),
             "Newest SNR of every downstream channel, per 1 dB. 256-QAM: good ≥ 35, acceptable ≥ 33; "
             "64-QAM: good ≥ 33, acceptable ≥ 30.", graded=False),
        bars(lay, "Upstream transmit power (dBmV)",
             histogram("cm_upstream", "tx_power_dbmv", 30, 60, ((35.0, 49.0), (35.0, 51.0))),
             "Newest transmit power of every upstream channel, per 1 dBmV (good 35..49, acceptable 35..51).",
             graded=True),
        panel(lay, "timeseries", "Devices polled successfully per interval",
              [flux(source(), measurement("poll", "ok"), '  |> filter(fn: (r) => r._value == true)',
                    "  |> group()", "  |> window(every: ${cycle})", '  |> distinct(column: "device")',
                    "  |> count()", '  |> duplicate(column: "_stop", as: "_time")', "  |> window(every: inf)",
                    '  |> keep(columns: ["_time", "_value"])')],
              w=12, h=9,
              description="Distinct devices and CPEs with a successful poll per interval (set the interval to the "
                          "CPE poll interval, NOC_POLL_CPE_INTERVAL_S). noc writes `poll` for successful polls "
                          "only: a drop here is CPEs that failed or were not polled. Failure kinds: "
                          "noc_poll_errors_total in the worker's metrics, and the API's poll status.",
              defaults=timeseries_defaults("none", min=0, displayName="devices polled",
                                           custom={"drawStyle": "bars", "fillOpacity": 60}),
              options=legend("min", "max", "lastNotNull")),
        panel(lay, "table", "Devices without a successful poll for longer than ${recent}",
              [flux('import "date"', "", source("-7d", None), measurement("poll", "ok"), "  |> last()",
                    "  |> filter(fn: (r) => r._time < date.sub(d: ${recent}, from: now()))", "  |> group()",
                    '  |> keep(columns: ["device", "_time"])', '  |> sort(columns: ["_time"])',
                    "  |> limit(n: 500)")],
              w=12, h=9,
              description="Devices and CPEs that were polled in the last 7 days but not since the chosen window "
                          "(at most 500, longest silent first).",
              overrides=[by_name("device", displayName="Device"),
                         by_name("_time", displayName="Last successful poll", unit="dateTimeAsLocal")],
              options={"showHeader": True}),
        panel(lay, "table", "Most uncorrectable codewords per second",
              [flux(source("-${recent}", None),
                    measurement("cm_downstream", "uncorrectable_per_s", "uncorrectable_per_s_valid"),
                    "  |> last()",
                    '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
                    "  |> filter(fn: (r) => r.uncorrectable_per_s_valid == true)",
                    '  |> group(columns: ["device"])', '  |> sum(column: "uncorrectable_per_s")', "  |> group()",
                    '  |> top(n: 20, columns: ["uncorrectable_per_s"])')],
              w=24, h=9,
              description="CPEs with the most uncorrectable codewords per second, summed over their downstream "
                          "channels (valid rates only).",
              overrides=[by_name("device", displayName="CPE"),
                         by_name("uncorrectable_per_s", displayName="Uncorrectable codewords/s", unit="cps",
                                 decimals=1)],
              options={"showHeader": True}),
    ]
    variables = [RECENT, custom_variable("cycle", "Poll interval", ["1m", "5m", "15m", "30m", "1h"], "15m")]
    return dashboard("noc-cpe-fleet-health", "CPE fleet health",
                     "RF health of the cable modem / gateway fleet from the CPE fleet-health polls.", panels,
                     variables)


def poller() -> Json:
    lay = Layout()

    def quantile(q: float) -> str:
        return flux(source(), measurement("poll", "duration_s"), DEVICE_VAR, "  |> group()",
                    "  |> aggregateWindow(every: v.windowPeriod, createEmpty: false,",
                    f"       fn: (column, tables=<-) => tables |> quantile(q: {q}, column: column))")

    panels = [
        panel(lay, "timeseries", "Poll duration percentiles", [quantile(q) for q in (0.5, 0.95, 0.99)],
              w=24, h=10,
              description="Time to poll one device or CPE (all its tables), across the polls matching the device "
                          "filter, per interval.",
              defaults=timeseries_defaults("s", min=0),
              overrides=[{"matcher": {"id": "byFrameRefID", "options": ref},
                          "properties": [{"id": "displayName", "value": name}]}
                         for ref, name in (("A", "p50"), ("B", "p95"), ("C", "p99"))],
              options=legend("mean", "max", "lastNotNull")),
        panel(lay, "timeseries", "Successful polls per interval",
              [flux(source(), measurement("poll", "ok"), DEVICE_VAR, "  |> group()",
                    "  |> aggregateWindow(every: v.windowPeriod, fn: count, createEmpty: true)")],
              w=12, h=9, description="Successful polls (devices and CPEs) matching the device filter, per interval.",
              defaults=timeseries_defaults("none", min=0, displayName="polls",
                                           custom={"drawStyle": "bars", "fillOpacity": 60}),
              options=legend("min", "max")),
        panel(lay, "table", "Slowest devices",
              [flux(source(), measurement("poll", "duration_s"), DEVICE_VAR, '  |> group(columns: ["device"])',
                    "  |> mean()", "  |> group()", '  |> top(n: 25, columns: ["_value"])',
                    '  |> keep(columns: ["device", "_value"])')],
              w=12, h=9, description="Mean poll duration over the time range, slowest 25 devices or CPEs.",
              overrides=[by_name("device", displayName="Device"),
                         by_name("_value", displayName="Mean poll duration", unit="s", decimals=3)],
              options={"showHeader": True}),
        panel(lay, "timeseries", "Poll duration per device (set the device filter)",
              [flux(source(), measurement("poll", "duration_s"), DEVICE_VAR,
                    '  |> filter(fn: (r) => "${device}" != ".*")',
                    "  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)",
                    '  |> keep(columns: ["_time", "_value", "device"])')],
              w=24, h=10,
              description="Peak poll duration per interval of each device matching the filter (a regular "
                          "expression such as ^cmts-1$); empty while the filter is .* (every CPE would be a line).",
              defaults=timeseries_defaults("s", min=0, displayName="${__field.labels.device}"),
              options=legend("mean", "max")),
    ]
    return dashboard("noc-poller", "Poller", "How long SNMP polls take, and how many succeed.", panels,
                     [textbox_variable("device", "Device (regex)", ".*")], time_from="now-6h")


DASHBOARDS = {
    "segment-capacity.json": segment_capacity,
    "cpe-fleet-health.json": cpe_fleet_health,
    "poller.json": poller,
}


def render(build: Any) -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    OUT.mkdir(exist_ok=True)
    for name, build in DASHBOARDS.items():
        path, text = OUT / name, render(build)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date (run python dashboards/build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
