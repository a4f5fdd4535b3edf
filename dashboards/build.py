"""Generate the Grafana dashboards in ``dashboards/json/``, the alert rules and where their alerts go (a contact point
and the notification policies) in ``dashboards/provisioning/alerting/`` (stdlib only).

    python dashboards/build.py           # rewrite the generated files
    python dashboards/build.py --check   # exit 1 if a committed file differs from what this script builds

Every panel and query names one of three provisioned data sources by uid: InfluxDB (``noc-influxdb``, Flux:
only the measurements, fields and tags of docs/series.md), PostgreSQL (``noc-postgres``: only the
``grafana_*`` views of migration 0011, as the read-only role ``noc_grafana``) and Prometheus (``noc-prometheus``:
noc's own ``/metrics`` as scraped by VictoriaMetrics). Grafana expands ``${var}`` in Flux and SQL;
``v.timeRangeStart``, ``v.timeRangeStop``, ``v.windowPeriod`` and the ``$__timeFilter(...)`` macros come from
Grafana as well.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "json"
ALERTS = HERE / "provisioning" / "alerting" / "noc-alerts.yaml"
NOTIFICATIONS = HERE / "provisioning" / "alerting" / "noc-notifications.yaml"
ONCALL = "noc-oncall"
"""The contact point every alert of noc reaches: the NOC on-call's mailbox (``NOC_ONCALL_EMAIL``)."""
DATASOURCE = {"type": "influxdb", "uid": "noc-influxdb"}
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": "noc-postgres"}
PROMETHEUS = {"type": "prometheus", "uid": "noc-prometheus"}
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


@dataclass(frozen=True)
class Sql:
    """A query on the ``grafana_*`` views (PostgreSQL); ``table`` or ``time_series`` format."""

    sql: str
    format: str = "table"


@dataclass(frozen=True)
class Prom:
    """A PromQL query on noc's own metrics."""

    expr: str
    legend: str = ""


Query = str | Sql | Prom
"""Flux (a plain string), SQL or PromQL."""


def datasource_of(query: Query) -> Json:
    return POSTGRES if isinstance(query, Sql) else PROMETHEUS if isinstance(query, Prom) else DATASOURCE


def target(query: Query, ref: str = "A") -> Json:
    if isinstance(query, Sql):
        return {"refId": ref, "datasource": POSTGRES, "editorMode": "code", "format": query.format,
                "rawQuery": True, "rawSql": query.sql}
    if isinstance(query, Prom):
        return {"refId": ref, "datasource": PROMETHEUS, "editorMode": "code", "expr": query.expr,
                "legendFormat": query.legend or "__auto", "range": True, "instant": False}
    return {"refId": ref, "datasource": DATASOURCE, "query": query}


def panel(layout: Layout, kind: str, title: str, queries: list[Query], *, w: int = 12, h: int = 8,
          description: str = "", defaults: Json | None = None, overrides: list[Json] | None = None,
          options: Json | None = None, links: list[Json] | None = None) -> Json:
    (source_of_panel,) = {json.dumps(datasource_of(q)) for q in queries}  # one data source per panel
    p = {
        "id": layout.next_id,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": json.loads(source_of_panel),
        "gridPos": layout.place(w, h),
        "targets": [target(q, chr(ord("A") + i)) for i, q in enumerate(queries)],
        "fieldConfig": {"defaults": defaults or {}, "overrides": overrides or []},
        "options": options or {},
    }
    if links:
        p["links"] = links
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


def stat(layout: Layout, title: str, query: Query, description: str, steps: Json, unit: str = "none", *,
         w: int = 6, overrides: list[Json] | None = None) -> Json:
    return panel(layout, "stat", title, [query], w=w, h=4, description=description, overrides=overrides,
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
              time_from: str = "now-24h", refresh: str = "1m", annotations: list[Json] | None = None) -> Json:
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
        "annotations": {"list": annotations if annotations is not None else ANNOTATIONS},
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
        panel(lay, "timeseries", "Poller groups: workers and lag (scaled out, noc /metrics)",
              [Prom("max by (group) (noc_poller_group_workers)", "{{group}} workers"),
               Prom("max by (group, job) (noc_poller_group_lag_seconds)", "{{group}} {{job}} lag s")],
              w=12, h=8,
              description="With NOC_BROKER_URL: the workers answering on each poller group's queue, and how long "
                          "the group's newest cycle has run past its interval unfinished (0: in time). Empty when "
                          "polling runs in-process.",
              defaults=timeseries_defaults("none", min=0), options=legend("min", "max", "lastNotNull")),
        panel(lay, "timeseries", "Poller groups: work lost and skipped per hour (scaled out, noc /metrics)",
              [Prom("sum by (group) (increase(noc_poll_batches_resent_total[1h]))", "{{group}} batches sent again"),
               Prom("sum by (group) (increase(noc_poll_batches_missing_total[1h]))",
                    "{{group}} segment batches missing"),
               Prom("sum by (group) (increase(noc_poll_group_cycles_skipped_total[1h]))", "{{group}} cycles skipped")],
              w=12, h=8,
              description="CPE batches the broker lost and the leader sent again (a few after worker crashes are "
                          "expected), segment batches whose samples did not come back within the interval, and CPE "
                          "cycles not started because the group's previous one still ran (docs/operations.md).",
              defaults=timeseries_defaults("none", min=0), options=legend("max", "lastNotNull")),
    ]
    return dashboard("noc-poller", "Poller", "How long SNMP polls take, how many succeed, and (scaled out) how the "
                     "poller groups keep up.", panels,
                     [textbox_variable("device", "Device (regex)", ".*")], time_from="now-6h", annotations=[])


# --- noc's database (PostgreSQL views) ----------------------------------------------------------------------
# The defaults of noc/capacity/rules.yaml and noc/polling/health.yaml; tests/grafana checks they still agree.

TIMEZONE = "Europe/Ljubljana"
THRESHOLD = 0.70
BUSY_START, BUSY_END, BUSY_DAYS = "19:00", "23:00", 7
FORECAST_HISTORY_DAYS, FORECAST_MIN_POINTS, FORECAST_LEAD_DAYS = 28, 14, 90
HEALTH = {  # field -> ((good min, good max), (acceptable min, acceptable max)); None: no bound
    "power_dbmv": ((-7.0, 7.0), (-15.0, 15.0)),
    "snr_db": ((35.0, None), (33.0, None)),  # 256-QAM; 64-QAM is good from 33, acceptable from 30
    "tx_power_dbmv": ((35.0, 49.0), (35.0, 51.0)),
}
ACTIVE_TICKETS = "('open', 'acknowledged', 'in_progress')"
DAY = "to_char(predicted_date, 'YYYY-MM-DD') AS predicted_date"
"""A date as text: Grafana shows SQL dates as midnight timestamps."""
NOC_API = "${noc_api}"


def local(column: str) -> str:
    """A timestamptz column as the operator's local time."""
    return f"({column} AT TIME ZONE '{TIMEZONE}')"


def busy(column: str = "start") -> str:
    """The rollup starts inside the local busy hours of the busy-hour rule."""
    return f"{local(column)}::time >= '{BUSY_START}' AND {local(column)}::time < '{BUSY_END}'"


def sql(*lines: str) -> str:
    return "\n".join(lines)


def health_thresholds(field: str) -> Json:
    """Red outside the acceptable range, yellow outside the good one, green inside it (health policy)."""
    (g_lo, g_hi), (a_lo, a_hi) = HEALTH[field]
    steps: list[tuple[str, float | None]] = [("red" if a_lo is not None else "green", None)]
    if a_lo is not None:
        steps.append(("yellow" if g_lo is not None and g_lo > a_lo else "green", a_lo))
    if g_lo is not None and (a_lo is None or g_lo > a_lo):
        steps.append(("green", g_lo))
    if g_hi is not None and (a_hi is None or g_hi < a_hi):
        steps.append(("yellow", g_hi))
    if a_hi is not None:
        steps.append(("red", a_hi))
    return thresholds(*steps)


def columns(**names: str | dict[str, Any]) -> list[Json]:
    """Display names (and more) per column: ``columns(segment="Segment", age_s={"displayName": .., "unit": "s"})``."""
    out = []
    for name, spec in names.items():
        props = {"displayName": spec} if isinstance(spec, str) else spec
        out.append(by_name(name, **props))
    return out


def table(layout: Layout, title: str, query: Sql, description: str, overrides: list[Json], *, w: int = 12,
          h: int = 8, defaults: Json | None = None) -> Json:
    return panel(layout, "table", title, [query], w=w, h=h, description=description, overrides=overrides,
                 defaults={"custom": {"align": "auto", "cellOptions": {"type": "auto"}}, **(defaults or {})},
                 options={"showHeader": True, "cellHeight": "sm",
                          "footer": {"show": False, "reducer": ["sum"], "fields": ""}})


def sql_variable(name: str, label: str, query: str, *, hide: int = 0) -> Json:
    """A single-value query variable on the views."""
    return {"name": name, "label": label, "type": "query", "datasource": POSTGRES, "query": query,
            "definition": query, "refresh": 1, "sort": 1, "multi": False, "includeAll": False,
            "current": {}, "options": [], "regex": "", "hide": hide}


def annotation(name: str, color: str, query: str) -> Json:
    return {"name": name, "datasource": POSTGRES, "enable": True, "iconColor": color,
            "target": {"refId": "Anno", "datasource": POSTGRES, "editorMode": "code", "format": "table",
                       "rawQuery": True, "rawSql": query}}


def ticket_annotations(where: str = "") -> Json:
    return annotation("Upgrade tickets opened", "red", sql(
        "SELECT opened_at AS time,",
        "       'Ticket ' || id || ': ' || segment || ' ' || direction || ', ' || rule",
        "         || ' (' || state || ')' AS text,",
        "       'ticket,' || rule || ',' || segment AS tags",
        "FROM grafana_tickets",
        f"WHERE $__timeFilter(opened_at){where}"))


def window_annotations(where: str = "") -> Json:
    return annotation("Maintenance windows and outages", "orange", sql(
        "SELECT starts_at AS time, COALESCE(ends_at, now()) AS timeend,",
        "       CASE kind WHEN 'outage' THEN 'Outage: ' ELSE 'Works: ' END || title",
        "         || ' (' || string_agg(segment, ', ' ORDER BY segment) || ')' AS text,",
        "       kind || ',' || impact AS tags",
        "FROM grafana_maintenance",
        "WHERE cancelled_at IS NULL AND starts_at < $__timeTo() AND COALESCE(ends_at, now()) > $__timeFrom()"
        f"{where}",
        "GROUP BY window_id, kind, title, impact, starts_at, ends_at"))


ANNOTATIONS = [ticket_annotations(), window_annotations()]
"""Tickets opened and maintenance windows / outages, on every time-series panel of a dashboard."""

API_VARIABLE = textbox_variable("noc_api", "noc API", "http://127.0.0.1:8000")
"""Where links to noc's API point (tickets and their charts); set it to the address engineers reach noc at."""


def segment_link(title: str = "Segment detail") -> Json:
    return {"title": title,
            "url": "/d/noc-segment-detail/segment-detail?var-segment=${__value.raw}&${__url_time_range}"}


def ticket_links() -> list[Json]:
    return [{"title": "Ticket (noc API)", "url": NOC_API + "/api/v1/tickets/${__value.raw}", "targetBlank": True},
            {"title": "Ticket chart", "url": NOC_API + "/api/v1/tickets/${__value.raw}/chart.svg",
             "targetBlank": True}]


def busiest(kinds: str, limit: int = 10) -> Sql:
    """Peak utilization per Grafana interval (at least a rollup period) of the ``limit`` busiest segment directions
    of some kinds (by their peak rollup mean in the time range)."""
    return Sql(sql(
        "WITH top AS (",
        "  SELECT segment_id, direction FROM grafana_segment_rollups",
        f"  WHERE segment_kind IN {kinds} AND $__timeFilter(start)",
        f"  GROUP BY segment_id, direction ORDER BY max(mean) DESC LIMIT {limit})",
        "SELECT date_bin(GREATEST($__interval_ms, 300000) * interval '1 millisecond', r.start,",
        "                TIMESTAMPTZ '2000-01-01') AS time,",
        "       r.segment || ' ' || r.direction AS metric, max(r.mean) AS value",
        "FROM grafana_segment_rollups r JOIN top USING (segment_id, direction)",
        "WHERE $__timeFilter(r.start)",
        "GROUP BY 1, 2",
        "ORDER BY 1"), "time_series")


def utilization_defaults(custom: Json | None = None, **extra: Any) -> Json:
    """Utilization 0..1 with the 70 % line."""
    return timeseries_defaults("percentunit", min=0, decimals=1,
                               thresholds=thresholds(("green", None), ("red", THRESHOLD)),
                               custom={"axisSoftMax": 1, "thresholdsStyle": {"mode": "line"}, **(custom or {})},
                               **extra)


def overview() -> Json:
    lay = Layout()
    red70 = thresholds(("green", None), ("red", THRESHOLD))
    panels = [
        panel(lay, "barchart", "Segments by busy-hour p95 (last 7 days)", [Sql(sql(
            "SELECT segment || ' ' || direction AS segment_direction,",
            "       percentile_cont(0.95) WITHIN GROUP (ORDER BY mean) AS busy_hour_p95",
            "FROM grafana_segment_rollups",
            f"WHERE start >= now() - interval '{BUSY_DAYS} days' AND {busy()}",
            "GROUP BY segment, direction",
            "ORDER BY busy_hour_p95 DESC",
            "LIMIT 25"))], w=12, h=12,
            description=f"p95 of the 5-minute rollup means between {BUSY_START} and {BUSY_END} ({TIMEZONE}) over "
                        f"the last {BUSY_DAYS} days, busiest 25 segment directions: what the busy-hour rule "
                        "compares with the 70 % line (docs/capacity-rules.md).",
            defaults={"unit": "percentunit", "min": 0, "max": 1, "decimals": 1, "thresholds": red70,
                      "color": {"mode": "thresholds"},
                      "custom": {"fillOpacity": 80, "lineWidth": 0, "thresholdsStyle": {"mode": "line"}}},
            overrides=columns(segment_direction="Segment", busy_hour_p95="Busy-hour p95"),
            options={"xField": "segment_direction", "orientation": "horizontal", "showValue": "always",
                     "stacking": "none", "barWidth": 0.8, "groupWidth": 0.7, "xTickLabelSpacing": 0,
                     "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False},
                     "tooltip": {"mode": "single", "sort": "none"}}),
        table(lay, "Open upgrade tickets", Sql(sql(
            "SELECT id, segment, segment_kind, direction, rule, state, priority, latest_peak,",
            f"       extract(epoch FROM now() - opened_at) AS age_s, {DAY}",
            "FROM grafana_tickets",
            f"WHERE state IN {ACTIVE_TICKETS}",
            "ORDER BY opened_at")),
            "Active tickets, oldest first. The ticket number links to the ticket and its chart in noc's API "
            "(set the noc API address above); the segment to its detail dashboard.",
            columns(id={"displayName": "Ticket", "links": ticket_links()},
                    segment={"displayName": "Segment", "links": [segment_link()]},
                    segment_kind="Kind", direction="Direction", rule="Rule", state="State", priority="Priority",
                    latest_peak={"displayName": "Peak", "unit": "percentunit", "decimals": 1},
                    age_s={"displayName": "Age", "unit": "s", "decimals": 0},
                    predicted_date="Forecast crossing"), w=12, h=12),
    ]
    for kinds, title in ((("('access')"), "Access segments"), ("('aggregation', 'core')", "Core and aggregation"),
                         ("('international')", "International links")):
        panels.append(panel(lay, "timeseries", f"{title}: 10 busiest", [busiest(kinds)], w=8, h=9,
                            description="Peak of the 5-minute rollup means per interval, for the 10 segment "
                                        "directions with the highest peak in the time range; the red line is 70 %.",
                            defaults=utilization_defaults(), options=legend("max", "lastNotNull")))
    panels += [
        table(lay, "Next forecast crossings", Sql(sql(
            f"SELECT segment, segment_kind, direction, {DAY},",
            "       predicted_date - current_date AS days_left, trend_value, ticket_id",
            "FROM grafana_forecasts",
            "ORDER BY days_left",
            "LIMIT 20")),
            f"Segment directions whose busy-hour p95 trend reaches 70 % within {FORECAST_LEAD_DAYS} days (active "
            "forecast tickets), soonest first.",
            columns(segment={"displayName": "Segment", "links": [segment_link()]}, segment_kind="Kind",
                    direction="Direction", predicted_date="Crossing on",
                    days_left={"displayName": "Days left", "unit": "d", "decimals": 0},
                    trend_value={"displayName": "Trend today", "unit": "percentunit", "decimals": 1},
                    ticket_id={"displayName": "Ticket", "links": ticket_links()}), w=12, h=8),
        table(lay, "Maintenance windows and outages: active and upcoming", Sql(sql(
            "SELECT window_id, kind, CASE WHEN starts_at <= now() THEN 'active' ELSE 'upcoming' END AS status,",
            "       title, impact, emergency, starts_at, ends_at,",
            "       string_agg(segment, ', ' ORDER BY segment) AS segments",
            "FROM grafana_maintenance",
            "WHERE cancelled_at IS NULL AND (ends_at IS NULL OR ends_at > now())",
            "GROUP BY window_id, kind, title, impact, emergency, starts_at, ends_at",
            "ORDER BY starts_at")),
            "Planned works and outages not over yet (an outage without an end is ongoing); the same windows "
            "show as orange regions on the time series.",
            columns(window_id="Window", kind="Kind", status="Status", title="Title", impact="Impact",
                    emergency="Emergency", starts_at={"displayName": "Starts", "unit": "dateTimeAsLocal"},
                    ends_at={"displayName": "Ends", "unit": "dateTimeAsLocal"}, segments="Segments"), w=12, h=8),
        stat(lay, "CPE fleet health", Sql(sql(
            "SELECT count(*) FILTER (WHERE health_grade = 'good') AS good,",
            "       count(*) FILTER (WHERE health_grade = 'marginal') AS marginal,",
            "       count(*) FILTER (WHERE health_grade = 'bad') AS bad,",
            "       count(*) FILTER (WHERE health_grade = 'unreachable') AS unreachable,",
            "       count(*) FILTER (WHERE health_grade IS NULL) AS not_polled",
            "FROM grafana_cpes WHERE enabled")),
            "Enabled CPEs by their newest fleet-health grade (polling/health.yaml); details in CPE fleet health.",
            thresholds(("blue", None)), w=12,
            overrides=[by_name(n, displayName=d, color={"mode": "fixed", "fixedColor": c})
                       for n, d, c in (("good", "Good", "green"), ("marginal", "Marginal", "yellow"),
                                       ("bad", "Bad", "red"), ("unreachable", "Unreachable", "purple"),
                                       ("not_polled", "Not polled yet", "text"))]),
        stat(lay, "Poller", Sql(sql(
            "SELECT count(*) FILTER (WHERE target_kind = 'device' AND NOT ok) AS devices_failing,",
            "       count(*) FILTER (WHERE target_kind = 'cpe' AND NOT ok) AS cpes_failing,",
            "       extract(epoch FROM now() - max(at) FILTER (WHERE target_kind = 'device')) AS device_poll_age_s",
            "FROM grafana_poll_status")),
            "Devices and CPEs whose newest poll failed, and the age of the newest device poll (segments are polled "
            "every NOC_POLL_SEGMENT_INTERVAL_S).", thresholds(("green", None), ("red", 1)), w=12,
            overrides=columns(devices_failing="Devices failing", cpes_failing="CPEs failing",
                              device_poll_age_s={"displayName": "Newest device poll", "unit": "s",
                                                 "thresholds": thresholds(("green", None), ("orange", 300),
                                                                          ("red", 900))})),
        panel(lay, "timeseries", "Poll cycle duration (noc /metrics)",
              [Prom("max by (job) (noc_poll_cycle_duration_seconds)", "{{job}}"),
               Prom("max by (job) (noc_poll_interval_seconds)", "{{job}} interval")], w=12, h=8,
              description="How long the last segment and CPE cycles took, against their intervals: a cycle longer "
                          "than its interval skips the next run (noc_poll_cycles_skipped_total).",
              defaults=timeseries_defaults("s", min=0), options=legend("max", "lastNotNull")),
        panel(lay, "timeseries", "Poll errors per minute (noc /metrics)",
              [Prom("sum by (job, error) (rate(noc_poll_errors_total[5m])) * 60", "{{job}} {{error}}")],
              w=12, h=8, description="Failed polls by job and kind (timeout, refused, invalid readings ...).",
              defaults=timeseries_defaults("none", min=0), options=legend("max", "lastNotNull")),
    ]
    return dashboard("noc-overview", "NOC overview",
                     "The morning view: busiest segments against 70 %, open tickets, forecast crossings, works and "
                     "outages, fleet health and the poller.", panels, [API_VARIABLE], time_from="now-7d")


SEGMENT = "'${segment}'"


def segment_detail() -> Json:
    lay = Layout()
    one = '  |> filter(fn: (r) => r.segment == "${segment}")'
    daily = sql(
        "SELECT direction, " + local("start") + "::date AS day,",
        "       percentile_cont(0.95) WITHIN GROUP (ORDER BY mean) AS p95",
        "FROM grafana_segment_rollups",
        f"WHERE segment = {SEGMENT} AND {busy()}")
    trend = Sql(sql(
        "WITH daily AS (",
        daily,
        f"    AND start >= now() - interval '{FORECAST_HISTORY_DAYS} days'",
        "  GROUP BY direction, day),",
        "fit AS (",
        "  SELECT direction, min(day) AS first_day,",
        "         regr_slope(p95, (day - DATE '2000-01-01')::float8) AS slope,",
        "         regr_intercept(p95, (day - DATE '2000-01-01')::float8) AS intercept",
        f"  FROM daily GROUP BY direction HAVING count(*) >= {FORECAST_MIN_POINTS}),",
        "line AS (",
        "  SELECT direction, first_day, slope, intercept,",
        f"         CASE WHEN slope > 0 THEN LEAST(current_date + {FORECAST_LEAD_DAYS}, GREATEST(current_date,",
        f"              DATE '2000-01-01' + ceil(({THRESHOLD} - intercept) / slope)::int))",
        "              ELSE current_date END AS last_day",
        "  FROM fit),",
        "days AS (",
        f"  SELECT generate_series(current_date - {FORECAST_HISTORY_DAYS - 1},",
        "         (SELECT COALESCE(max(last_day), current_date) FROM line), interval '1 day')::date AS day)",
        "SELECT d.day - current_date AS day,",
        "       max(p.p95) FILTER (WHERE p.direction = 'down') AS down_p95,",
        "       max(p.p95) FILTER (WHERE p.direction = 'up') AS up_p95,",
        "       max(l.intercept + l.slope * (d.day - DATE '2000-01-01'))",
        "         FILTER (WHERE l.direction = 'down' AND d.day BETWEEN l.first_day AND l.last_day) AS down_trend,",
        "       max(l.intercept + l.slope * (d.day - DATE '2000-01-01'))",
        "         FILTER (WHERE l.direction = 'up' AND d.day BETWEEN l.first_day AND l.last_day) AS up_trend",
        "FROM days d",
        "LEFT JOIN daily p ON p.day = d.day",
        "LEFT JOIN line l ON true",
        "GROUP BY d.day",
        "ORDER BY d.day"))
    panels = [
        panel(lay, "timeseries", "Utilization per direction",
              [flux(source(), measurement("segment", "utilization"), one,
                    "  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)",
                    '  |> keep(columns: ["_time", "_value", "direction"])')], w=12, h=9,
              description="Peak utilization per interval (sum of member rates over sum of capacities); the red line "
                          "is 70 %.", defaults=utilization_defaults(displayName="${__field.labels.direction}"),
              options=legend("max", "mean", "lastNotNull")),
        panel(lay, "timeseries", "Traffic and capacity per direction",
              [flux(source(), measurement("segment", field), one,
                    "  |> aggregateWindow(every: v.windowPeriod, fn: max, createEmpty: false)",
                    '  |> keep(columns: ["_time", "_value", "direction"])') for field in ("bps", "capacity_bps")],
              w=12, h=9, description="Peak rate per interval (solid) against the capacity (dashed).",
              defaults=timeseries_defaults("bps", min=0),
              overrides=[{"matcher": {"id": "byFrameRefID", "options": "A"},
                          "properties": [{"id": "displayName", "value": "${__field.labels.direction}"}]},
                         {"matcher": {"id": "byFrameRefID", "options": "B"},
                          "properties": [{"id": "displayName", "value": "${__field.labels.direction} capacity"},
                                         {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}],
              options=legend("max")),
        panel(lay, "timeseries", "Busy-hour p95 per day", [Sql(sql(
            "SELECT date_trunc('day', " + local("start") + f") AT TIME ZONE '{TIMEZONE}' AS time,",
            "       direction AS metric, percentile_cont(0.95) WITHIN GROUP (ORDER BY mean) AS value",
            "FROM grafana_segment_rollups",
            f"WHERE segment = {SEGMENT} AND $__timeFilter(start) AND {busy()}",
            "GROUP BY 1, 2",
            "ORDER BY 1"), "time_series")], w=12, h=9,
            description=f"Per local day, the p95 of the rollup means between {BUSY_START} and {BUSY_END}.",
            defaults=utilization_defaults(custom={"drawStyle": "bars", "fillOpacity": 60}),
            options=legend("max", "lastNotNull")),
        panel(lay, "trend", "Busy-hour p95 trend to the 70 % crossing", [trend], w=12, h=9,
              description=f"Daily busy-hour p95 of the last {FORECAST_HISTORY_DAYS} days and its least-squares "
                          f"trend (with at least {FORECAST_MIN_POINTS} days), drawn on to where it reaches 70 % "
                          f"(at most {FORECAST_LEAD_DAYS} days ahead). x: days from today.",
              defaults=utilization_defaults(),
              overrides=[*columns(day={"displayName": "Days from today", "unit": "d"}, down_p95="down p95",
                                  up_p95="up p95"),
                         *[by_name(f"{d}_trend", displayName=f"{d} trend",
                                   custom__lineStyle={"fill": "dash", "dash": [10, 10]}) for d in ("down", "up")]],
              options={"xField": "day", **legend("max")}),
        table(lay, "Tickets of this segment", Sql(sql(
            f"SELECT id, direction, rule, state, priority, latest_peak, {DAY}, opened_at, closed_at, detail",
            "FROM grafana_tickets",
            f"WHERE segment = {SEGMENT}",
            "ORDER BY opened_at DESC",
            "LIMIT 100")),
            "Every ticket of the segment, newest first; the number links to the ticket and its chart.",
            columns(id={"displayName": "Ticket", "links": ticket_links()}, direction="Direction", rule="Rule",
                    state="State", priority="Priority",
                    latest_peak={"displayName": "Peak", "unit": "percentunit", "decimals": 1},
                    predicted_date="Forecast crossing",
                    opened_at={"displayName": "Opened", "unit": "dateTimeAsLocal"},
                    closed_at={"displayName": "Closed", "unit": "dateTimeAsLocal"}, detail="Why"), w=24, h=8),
    ]
    where = f" AND segment = {SEGMENT}"
    return dashboard("noc-segment-detail", "Segment detail",
                     "One segment: rates and utilization per direction, busy-hour p95, the forecast and its tickets.",
                     panels, [sql_variable("segment", "Segment", "SELECT segment FROM grafana_segments ORDER BY 1"),
                              API_VARIABLE],
                     time_from="now-7d", annotations=[ticket_annotations(where), window_annotations(where)])


DEVICE = "'${device}'"


def cpe_detail() -> Json:
    lay = Layout()
    one = '  |> filter(fn: (r) => r.device == "${device}")'

    def series(name: str, *fields: str, every: str = "v.windowPeriod", fn: str = "mean", empty: bool = False) -> str:
        return flux(source(), measurement(name, *fields), one,
                    f"  |> aggregateWindow(every: {every}, fn: {fn}, createEmpty: {str(empty).lower()})")

    def health_panel(title: str, name: str, field: str, unit: str, description: str) -> Json:
        return panel(lay, "timeseries", title, [series(name, field)], w=8, h=8, description=description,
                     defaults=timeseries_defaults(unit, thresholds=health_thresholds(field),
                                                  displayName=f"{name.removeprefix('cm_')} ${{__field.labels.channel}}",
                                                  custom={"thresholdsStyle": {"mode": "line+area"}}),
                     options=legend("min", "max", "lastNotNull"))

    panels = [
        table(lay, "CPE", Sql(sql(
            "SELECT serial, mac, model, segment, enabled, health_grade, health_at",
            "FROM grafana_cpes",
            f"WHERE serial = {DEVICE}")),
            "The CPE whose serial or MAC address is typed above (no subscriber data here).",
            columns(serial="Serial", mac="MAC", model="Model",
                    segment={"displayName": "Segment", "links": [segment_link()]}, enabled="Enabled",
                    health_grade="Health", health_at={"displayName": "Graded", "unit": "dateTimeAsLocal"}),
            w=14, h=4),
        table(lay, "Reachability", Sql(sql(
            "SELECT ok, at, last_ok_at, consecutive_failures, error, duration_s",
            "FROM grafana_poll_status",
            f"WHERE target_kind = 'cpe' AND target_id = (SELECT id FROM grafana_cpes WHERE serial = {DEVICE})")),
            "The newest fleet-health poll of the CPE.",
            columns(ok="Reached", at={"displayName": "Polled", "unit": "dateTimeAsLocal"},
                    last_ok_at={"displayName": "Last reached", "unit": "dateTimeAsLocal"},
                    consecutive_failures="Failures in a row", error="Error",
                    duration_s={"displayName": "Poll took", "unit": "s"}), w=10, h=4),
        health_panel("Downstream receive power", "cm_downstream", "power_dbmv", "dBmV",
                     "Per downstream channel; green −7..+7, yellow to ±15 dBmV, red beyond (health policy)."),
        health_panel("Downstream SNR", "cm_downstream", "snr_db", "dB",
                     "Per downstream channel; green from 35, yellow from 33 dB (256-QAM; 64-QAM needs 30 / 33)."),
        health_panel("Upstream transmit power", "cm_upstream", "tx_power_dbmv", "dBmV",
                     "Per upstream channel; green 35..49, yellow to 51 dBmV, red beyond."),
        panel(lay, "timeseries", "Codewords per second", [series("cm_downstream", "corrected_per_s"),
                                                          series("cm_downstream", "uncorrectable_per_s")],
              w=12, h=8, description="Corrected and uncorrectable codewords per second, per downstream channel.",
              defaults=timeseries_defaults("cps", min=0),
              overrides=[{"matcher": {"id": "byFrameRefID", "options": ref},
                          "properties": [{"id": "displayName", "value": f"{what} ${{__field.labels.channel}}"}]}
                         for ref, what in (("A", "corrected"), ("B", "uncorrectable"))],
              options=legend("max", "lastNotNull")),
        panel(lay, "timeseries", "Traffic", [series("interface", "in_bps", "out_bps")], w=12, h=8,
              description="Rates of the CPE's interfaces (only valid rates are meaningful: a restart shows none).",
              defaults=timeseries_defaults("bps", min=0,
                                           displayName="${__field.labels.ifindex} ${__field.labels._field}"),
              options=legend("max", "lastNotNull")),
        panel(lay, "timeseries", "Successful polls", [series("poll", "ok", every="${cycle}", fn="count", empty=True)],
              w=12, h=6, description="Successful polls per poll interval (set it above): a 0 is an interval without a "
                          "successful poll (reachability).",
              defaults=timeseries_defaults("none", min=0, displayName="polls",
                                           custom={"drawStyle": "bars", "fillOpacity": 60}),
              options=legend("min", "max")),
        panel(lay, "timeseries", "Modem status", [series("cm_status", "status", fn="last")], w=12, h=6,
              description="docsIfCmStatusValue (12: operational).",
              defaults=timeseries_defaults("none", displayName="status"), options=legend("min", "lastNotNull")),
    ]
    variables = [
        textbox_variable("cpe", "CPE serial or MAC", ""),
        sql_variable("device", "CPE", sql(
            "SELECT serial FROM grafana_cpes",
            "WHERE serial = '${cpe}'",
            "   OR translate(lower(mac), ':-.', '') = translate(lower('${cpe}'), ':-.', '')",
            "LIMIT 1"), hide=2),
        custom_variable("cycle", "Poll interval", ["1m", "5m", "15m", "30m", "1h"], "15m"),
    ]
    return dashboard("noc-cpe-detail", "CPE detail",
                     "One CPE, found by serial or MAC: signal levels, SNR, transmit power, codewords, traffic and "
                     "reachability, graded by the health policy. Link: /d/noc-cpe-detail/cpe-detail?var-cpe=SERIAL",
                     panels, variables, time_from="now-24h")


# --- alerts on noc itself -----------------------------------------------------------------------------------

def alert(uid: str, title: str, query: Query, evaluator: tuple[str, float], *, for_: str, summary: str,
          action: str, no_data: str = "NoData", window_s: int = 600) -> Json:
    """A Grafana-managed rule: query A, firing while the threshold C on A holds for ``for_``.

    ``no_data``: what no answer at all means (``Alerting`` where silence is itself the fault).
    """
    model = target(query, "A")
    model.pop("datasource")
    if isinstance(query, Prom):
        model.update(range=False, instant=True)
    op, value = evaluator
    return {
        "uid": uid,
        "title": title,
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": window_s, "to": 0},
             "datasourceUid": datasource_of(query)["uid"], "model": model},
            {"refId": "C", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"refId": "C", "type": "threshold", "expression": "A",
                       "datasource": {"type": "__expr__", "uid": "__expr__"},
                       "conditions": [{"evaluator": {"type": op, "params": [value]}}]}},
        ],
        "noDataState": no_data,
        "execErrState": "Error",
        "for": for_,
        "annotations": {"summary": summary, "description": f"{action} (docs/operations.md, alert {uid})"},
        "labels": {"service": "noc", "severity": "critical" if no_data == "Alerting" else "warning"},
        "isPaused": False,
    }


def alert_rules() -> Json:
    rules = [
        alert("noc-segment-cycle-stale", "No successful segment poll cycle for 3 intervals",
              Prom('(time() - max(noc_poll_cycle_last_success_timestamp_seconds{job="segments"}))'
                   ' / max(noc_poll_interval_seconds{job="segments"})'),
              ("gt", 3), for_="0s", no_data="Alerting",
              summary="Segment utilization is not being measured: no segment cycle polled a device successfully "
                      "for more than 3 intervals (or no worker of shard 0, nor scheduler when scaled out, reports).",
              action="Check the noc-worker of shard 0, or when scaled out the scheduler holding the lease "
                     "(noc_poll_leader) and the segment devices' poller groups (GET /api/v1/polling/workers); then "
                     "reach the segment devices: `noc poll <device>`. Capacity rules see no new rollups meanwhile."),
        alert("noc-sink-spool-growing", "Series spool growing (InfluxDB unreachable)",
              Prom('max(deriv(noc_sink_spool_points{sink="influx"}[10m]))'), ("gt", 0), for_="10m",
              summary="The worker cannot write to InfluxDB and keeps samples in its on-disk spool.",
              action="Check InfluxDB (`influx ping`, disk, token) and the worker's log lines 'influx sink'. Nothing is "
                     "lost while the spool has room (noc_sink_spool_bytes against noc_sink_spool_max_bytes); it "
                     "is replayed in order once InfluxDB answers."),
        alert("noc-outbox-dead-webhooks", "Ticket webhooks given up (outbox dead letters)",
              Sql(sql("SELECT count(*) AS dead FROM grafana_outbox",
                      "WHERE channel = 'webhook' AND state = 'dead' AND created_at > now() - interval '1 day'")),
              ("gt", 0), for_="0s",
              summary="The ticket system did not accept an upgrade-ticket event; noc gave up on it.",
              action="Read the message's last error (noc's outbox table, as an administrator), fix the receiver or "
                     "NOC_TICKET_WEBHOOK_URL / _SECRET, then requeue the dead letter (docs/outbox.md)."),
        alert("noc-outbox-dead-mail", "Many notice mails given up (outbox dead letters)",
              Sql(sql("SELECT COALESCE(count(*) FILTER (WHERE state = 'dead')::float8",
                      "         / NULLIF(count(*) FILTER (WHERE state IN ('sent', 'dead')), 0), 0) AS dead_share",
                      "FROM grafana_outbox",
                      "WHERE channel = 'email' AND created_at > now() - interval '1 day'")),
              ("gt", 0.05), for_="0s",
              summary="More than 5 % of the notice mails of the last day were given up.",
              action="A few dead mails are normal (unknown addresses); many mean the relay refuses noc: check "
                     "NOC_SMTP_* and the relay's log, then requeue (docs/outbox.md, docs/maintenance.md)."),
        alert("noc-audit-chain-broken", "Audit log hash chain broken",
              Prom("min(noc_audit_chain_ok)"), ("lt", 1), for_="0s",
              summary="The audit log's hash chain does not verify: an entry was changed or removed.",
              action="Run `noc audit verify` (it names the first broken entry); keep the database as it is, restore "
                     "the audit tables from a backup to compare, and treat it as a security incident."),
        alert("noc-poller-group-without-workers", "Poller group without a worker",
              Prom("(max(noc_poll_shards) - count(count by (shard) (noc_poll_shards)))"
                   " or sum(noc_poller_group_workers == bool 0)"), ("gt", 0), for_="5m",
              no_data="Alerting",
              summary="A poller group has no live worker (scaled-out polling), or fewer noc workers report than "
                      "NOC_POLL_SHARD says there are shards (in-process), or no noc worker reports at all: those "
                      "CPEs and devices are not polled.",
              action="Scaled out: GET /api/v1/polling/workers names the group without workers; start its "
                     "`noc worker --poller-group <group>` (docs/deployment.md, Poller groups). In-process: start the "
                     "missing `noc worker` with NOC_POLL_SHARD=i/n for each shard i (docs/deployment.md, Scaling "
                     "workers without a broker). Check that every noc-worker's /metrics is scraped."),
    ]
    return {"apiVersion": 1,
            "groups": [{"orgId": 1, "name": "noc", "folder": "noc", "interval": "1m", "rules": rules}]}


def notifications() -> Json:
    """Where the rules' alerts go: one e-mail contact point, the NOC on-call at ``$NOC_ONCALL_EMAIL`` (Grafana expands
    it from its environment when it provisions the file; several addresses are separated by ``;``), grouped by rule;
    a critical alert (silence is the fault) is repeated every hour while it fires, a warning every 4 hours.

    Provisioned policies replace the organisation's whole policy tree and cannot be edited in Grafana's UI: route
    alerts elsewhere (a pager, a chat) here."""
    return {
        "apiVersion": 1,
        "contactPoints": [{"orgId": 1, "name": ONCALL, "receivers": [
            {"uid": "noc-oncall-email", "type": "email", "disableResolveMessage": False,
             "settings": {"addresses": "$NOC_ONCALL_EMAIL", "singleEmail": True}}]}],
        "policies": [{"orgId": 1, "receiver": ONCALL, "group_by": ["grafana_folder", "alertname"],
                      "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
                      "routes": [{"receiver": ONCALL, "object_matchers": [["severity", "=", "critical"]],
                                  "repeat_interval": "1h"}]}],
    }


def render_provisioning(doc: Json, what: str) -> str:
    """An alerting provisioning file as YAML (JSON is YAML), with a header naming its source."""
    return (f"# {what}, generated by dashboards/build.py (edit that, not this file).\n"
            "# What each rule means, where its alerts go and what to do when one fires: docs/operations.md.\n"
            + json.dumps(doc, indent=2, ensure_ascii=True) + "\n")


# --- what Grafana sends to PostgreSQL (tests/grafana and benchmarks/grafana_queries.py run it) --------------

TIME_SERIES = frozenset({"time", "metric", "value"})
ANNOTATION = frozenset({"time", "text", "tags"})


def grafana_sql(query: str, values: dict[str, str], start: datetime, end: datetime, interval_ms: int = 600_000) -> str:
    """``query`` as Grafana's PostgreSQL data source sends it for the time range ``[start, end]`` and the panel
    interval ``interval_ms``: the macros used here expanded, variables interpolated (a single-value variable's
    quotes doubled, as Grafana's SQL data sources do)."""
    frm, to = (t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in (start, end))
    query = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m[1]} BETWEEN '{frm}' AND '{to}'", query)
    query = query.replace("$__timeFrom()", f"'{frm}'").replace("$__timeTo()", f"'{to}'")
    query = query.replace("$__interval_ms", str(interval_ms))
    if "$__" in query:
        raise ValueError(f"a macro grafana_sql does not expand: {query}")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m[1] or m[2]].replace("'", "''"), query)


def sql_queries(dash: Json) -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(where, SQL, the columns Grafana needs) of every SQL query of a dashboard: variables (one column: None),
    annotations, panels (a table names each column it shows in an override)."""
    for var in dash["templating"]["list"]:
        if var.get("datasource") == POSTGRES:
            yield f"{dash['uid']}: variable {var['name']}", var["query"], None
    for item in dash["annotations"]["list"]:
        if item["datasource"] == POSTGRES:
            yield f"{dash['uid']}: annotation {item['name']}", item["target"]["rawSql"], ANNOTATION
    for p in dash["panels"]:
        for t in p["targets"]:
            if t["datasource"] == POSTGRES:
                named = frozenset(o["matcher"]["options"] for o in p["fieldConfig"]["overrides"]
                                  if o["matcher"]["id"] == "byName")
                yield (f"{dash['uid']}: {p['title']} ({t['refId']})", t["rawSql"],
                       TIME_SERIES if t["format"] == "time_series" else named)


DASHBOARDS = {
    "overview.json": overview,
    "segment-detail.json": segment_detail,
    "cpe-detail.json": cpe_detail,
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
    ALERTS.parent.mkdir(exist_ok=True)
    files = {OUT / name: render(build) for name, build in DASHBOARDS.items()}
    files[ALERTS] = render_provisioning(alert_rules(), "Grafana alert rules on noc itself")
    files[NOTIFICATIONS] = render_provisioning(notifications(), "Where Grafana sends the alerts on noc")
    for path, text in files.items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date (run python dashboards/build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
