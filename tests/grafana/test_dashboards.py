"""Every SQL query of the dashboards and alert rules runs on the views in PostgreSQL, as the read-only role, and
returns the columns its panel names; the dashboards' constants agree with noc's rules and health policy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import yaml

from noc.capacity.rules import load_rules
from noc.polling.health import load_health
from tests.grafana.conftest import MAC, PG_ONLY, SERIAL
from tests.support.dashboards import DASHBOARDS, all_panels, build_module, load_dashboards

BUILD = build_module()
POSTGRES = BUILD.POSTGRES
grafana_sql = BUILD.grafana_sql


def sql_queries() -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """Every SQL query of every dashboard (panels, variables, annotations)."""
    for dash in load_dashboards().values():
        yield from BUILD.sql_queries(dash)


def run(reader: psycopg.Connection[Any], query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = reader.execute(query)  # type: ignore[call-overload]
    assert cursor.description is not None
    return [c.name for c in cursor.description], cursor.fetchall()


@PG_ONLY
def test_every_sql_query_runs_on_the_views_as_the_reader(reader: psycopg.Connection[Any]) -> None:
    """Each query returns exactly the columns its panel names (a renamed view column or alias fails here), and
    rows for the test's data."""
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(days=7)
    values = {"segment": "sg-test-1", "cpe": MAC.upper().replace(":", "-")}
    _, found = run(reader, grafana_sql(next(q for w, q, _ in sql_queries() if w.endswith("variable device")),
                                       values, start, end))
    assert found == [(SERIAL,)], "the CPE text box finds the CPE by its MAC in another notation"
    values["device"] = SERIAL
    seen = 0
    for where, query, expected in sql_queries():
        columns, rows = run(reader, grafana_sql(query, values, start, end))
        assert rows, f"{where}: no rows"
        if expected is None:
            assert len(columns) == 1, where
        elif expected in (BUILD.ANNOTATION, BUILD.TIME_SERIES):
            assert expected <= set(columns), f"{where}: {columns}"
        else:
            assert set(columns) == expected, f"{where}: returns {columns}, the panel names {sorted(expected)}"
        seen += 1
    assert seen >= 20


@PG_ONLY
def test_text_box_values_are_quoted(reader: psycopg.Connection[Any]) -> None:
    """A quote typed into the CPE box stays inside the string literal."""
    (query,) = [q for w, q, _ in sql_queries() if w.endswith("variable device")]
    end = datetime.now(UTC)
    _, rows = run(reader, grafana_sql(query, {"cpe": "x' OR 1=1 --"}, end - timedelta(hours=1), end))
    assert rows == []


@PG_ONLY
def test_forecast_trend_reaches_the_threshold(reader: psycopg.Connection[Any]) -> None:
    """The segment detail's trend line runs from the history to the crossing of 70 % (the test data climbs
    1 point a day from 35 %)."""
    dash = load_dashboards()["segment-detail.json"]
    (panel,) = [p for p in all_panels(dash["panels"]) if p["type"] == "trend"]
    end = datetime.now(UTC)
    columns, rows = run(reader, grafana_sql(panel["targets"][0]["rawSql"], {"segment": "sg-test-1"},
                                            end - timedelta(days=7), end))
    by_day = {r[columns.index("day")]: r for r in rows}
    trend = [(day, r[columns.index("down_trend")]) for day, r in sorted(by_day.items())
             if r[columns.index("down_trend")] is not None]
    assert trend[0][0] <= -13 and trend[-1][1] >= 0.7 > trend[-2][1]
    assert all(r[columns.index("up_trend")] is None for r in rows)  # too few days upstream


@PG_ONLY
def test_alert_sql_fires_on_dead_webhooks(reader: psycopg.Connection[Any]) -> None:
    rules = {r["uid"]: r for r in yaml.safe_load(build_module().ALERTS.read_text())["groups"][0]["rules"]}
    checked = 0
    for uid, rule in rules.items():
        query, condition = rule["data"][0], rule["data"][1]["model"]
        if query["datasourceUid"] != POSTGRES["uid"]:
            continue
        _, rows = run(reader, grafana_sql(query["model"]["rawSql"], {}, datetime.now(UTC), datetime.now(UTC)))
        ((value,),) = rows
        (cond,) = condition["conditions"]
        assert cond["evaluator"]["type"] == "gt"
        assert (value > cond["evaluator"]["params"][0]) is True, uid  # one dead of two mails; one dead webhook
        checked += 1
    assert checked == 2


# --- the dashboards' constants against noc's own defaults -----------------------------------------------------

def test_rule_constants_match_the_capacity_rules() -> None:
    build = build_module()
    rules = load_rules()["access"]
    assert rules.timezone == build.TIMEZONE
    assert build.THRESHOLD == rules.busy_hour_p95.threshold == rules.forecast.threshold
    busy = rules.busy_hour_p95
    assert (f"{busy.start:%H:%M}", f"{busy.end:%H:%M}", busy.days) == (build.BUSY_START, build.BUSY_END,
                                                                        build.BUSY_DAYS)
    forecast = rules.forecast
    assert (forecast.history_days, forecast.min_points, forecast.lead_days) == (
        build.FORECAST_HISTORY_DAYS, build.FORECAST_MIN_POINTS, build.FORECAST_LEAD_DAYS)


def test_health_thresholds_match_the_health_policy() -> None:
    build = build_module()
    policy = {rule.name: rule for rule in load_health().rules}
    for field, rule_name in (("power_dbmv", "ds_power"), ("snr_db", "ds_snr_qam256"),
                             ("tx_power_dbmv", "us_tx_power")):
        rule = policy[rule_name]
        assert rule.good and rule.acceptable
        assert build.HEALTH[field] == ((rule.good.min, rule.good.max), (rule.acceptable.min, rule.acceptable.max))
    steps = build.health_thresholds("power_dbmv")["steps"]
    assert [(s["color"], s["value"]) for s in steps] == [("red", None), ("yellow", -15), ("green", -7),
                                                         ("yellow", 7), ("red", 15)]


def test_cpe_detail_is_a_text_box_look_up() -> None:
    dash = load_dashboards()["cpe-detail.json"]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["cpe"]["type"] == "textbox"
    assert variables["device"]["hide"] == 2 and not variables["device"]["multi"]
    assert "LIMIT 1" in variables["device"]["query"]
    flux = " ".join(t.get("query", "") for p in all_panels(dash["panels"]) for t in p.get("targets", []))
    for needle in ('"power_dbmv"', '"snr_db"', '"tx_power_dbmv"', '"uncorrectable_per_s"', '"in_bps"',
                   '_measurement == "poll"'):
        assert needle in flux
    assert flux.count('r.device == "${device}"') >= 6
    thresholds = [p["fieldConfig"]["defaults"].get("thresholds") for p in all_panels(dash["panels"])
                  if "health policy" in p["description"] or "green" in p["description"]]
    assert len([t for t in thresholds if t]) == 3


def test_every_time_series_dashboard_shows_tickets_and_windows() -> None:
    for name, dash in load_dashboards().items():
        if not any(p["type"] == "timeseries" for p in all_panels(dash["panels"])) or dash["uid"] == "noc-poller":
            continue
        names = {a["name"] for a in dash["annotations"]["list"] if a["enable"]}
        assert names == {"Upgrade tickets opened", "Maintenance windows and outages"}, name


def test_overview_is_complete() -> None:
    dash = load_dashboards()["overview.json"]
    titles = " | ".join(p["title"] for p in all_panels(dash["panels"]))
    for needle in ("busy-hour p95", "Open upgrade tickets", "Access segments", "Core", "International",
                   "forecast crossings", "Maintenance windows and outages", "CPE fleet health", "Poller"):
        assert needle in titles
    (tickets,) = [p for p in all_panels(dash["panels"]) if p["title"] == "Open upgrade tickets"]
    links = [link["url"] for o in tickets["fieldConfig"]["overrides"] for p in o["properties"] if p["id"] == "links"
             for link in p["value"]]
    assert "${noc_api}/api/v1/tickets/${__value.raw}" in links
    assert "${noc_api}/api/v1/tickets/${__value.raw}/chart.svg" in links
    (bars,) = [p for p in all_panels(dash["panels"]) if p["type"] == "barchart"]
    assert {"color": "red", "value": 0.7} in bars["fieldConfig"]["defaults"]["thresholds"]["steps"]


def test_dashboard_uids_are_stable() -> None:
    uids = {name: dash["uid"] for name, dash in load_dashboards().items()}
    assert uids == {"overview.json": "noc-overview", "segment-detail.json": "noc-segment-detail",
                    "cpe-detail.json": "noc-cpe-detail", "segment-capacity.json": "noc-segment-capacity",
                    "cpe-fleet-health.json": "noc-cpe-fleet-health", "poller.json": "noc-poller"}
    links = " ".join(re.findall(r'"url": "(/d/[^"]+)"', " ".join((DASHBOARDS / "json" / n).read_text()
                                                                  for n in uids)))
    assert "/d/noc-segment-detail/" in links


# --- structure (no Grafana server runs here: neither Debian, PyPI nor npm ships one) --------------------------

PANEL_TYPES = {"timeseries", "table", "stat", "barchart", "trend"}


def test_dashboard_json_is_well_formed() -> None:
    provisioned = {"noc-influxdb", "noc-postgres", "noc-prometheus"}
    for name, dash in load_dashboards().items():
        assert dash["schemaVersion"] == build_module().SCHEMA_VERSION and dash["id"] is None, name
        assert not dash["editable"] and dash["time"]["from"].startswith("now-"), name
        names = [v["name"] for v in dash["templating"]["list"]]
        assert len(names) == len(set(names)), name
        panels = list(all_panels(dash["panels"]))
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), name
        cells: set[tuple[int, int]] = set()
        for p in panels:
            where = f"{name}: {p['title']}"
            assert p["type"] in PANEL_TYPES, where
            assert p["description"], where
            pos = p["gridPos"]
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, where
            mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not mine & cells, f"{where} overlaps another panel"
            cells |= mine
            refs = [t["refId"] for t in p["targets"]]
            assert len(refs) == len(set(refs)), where
            for t in p["targets"]:
                assert t["datasource"]["uid"] in provisioned, where
                if t["datasource"] == POSTGRES:
                    assert t["format"] in ("table", "time_series") and t["rawQuery"], where
            for o in p["fieldConfig"]["overrides"]:
                assert o["matcher"]["id"] in ("byName", "byFrameRefID"), where
                if o["matcher"]["id"] == "byFrameRefID":
                    assert o["matcher"]["options"] in refs, where


def test_alert_rules_are_well_formed() -> None:
    doc = yaml.safe_load(build_module().ALERTS.read_text())
    assert doc["apiVersion"] == 1
    (group,) = doc["groups"]
    assert group["folder"] == "noc" and group["interval"] == "1m"
    uids = [r["uid"] for r in group["rules"]]
    assert len(uids) == len(set(uids)) and all(len(u) <= 40 for u in uids)
    assert {"noc-segment-cycle-stale", "noc-sink-spool-growing", "noc-outbox-dead-webhooks",
            "noc-audit-chain-broken", "noc-poller-group-without-workers"} <= set(uids)
    operations = (DASHBOARDS.parent / "docs/operations.md").read_text()
    provisioned = {ds["uid"] for path in (DASHBOARDS / "provisioning/datasources").glob("*.yaml")
                   for ds in yaml.safe_load(path.read_text())["datasources"]}
    for rule in group["rules"]:
        refs = {d["refId"]: d for d in rule["data"]}
        assert rule["condition"] in refs
        assert refs["C"]["model"]["expression"] == "A" and refs["C"]["datasourceUid"] == "__expr__"
        assert refs["A"]["datasourceUid"] in provisioned
        assert rule["noDataState"] in ("NoData", "Alerting", "OK") and rule["execErrState"] in ("Error", "Alerting")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert f"### {rule['uid']} " in operations, f"docs/operations.md does not explain {rule['uid']}"


def dropped(mine: Any, theirs: Any, path: str = "") -> list[str]:
    """Keys of ``mine`` that ``theirs`` lost, with their paths."""
    if isinstance(mine, dict):
        return [p for key, value in mine.items()
                for p in ([f"{path}.{key}"] if key not in theirs else dropped(value, theirs[key], f"{path}.{key}"))]
    if isinstance(mine, list):
        return [p for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) for p in dropped(a, b, f"{path}[{i}]")]
    return []


ACCEPTED = re.compile(r"^\.id$|^\.annotations\.list\[\d+\]\.target\."
                      r"|^\.templating\.list\[\d+\]\.(definition|allValue)$")
"""What Grafana's schema types leave out and Grafana still reads: the id (null: Grafana assigns one), the query of a
data source's annotation (typed there as the built-in annotation's target), the text of a variable's query."""


def test_dashboards_match_grafanas_schema() -> None:
    """Each dashboard read through the typed models of Grafana 11.6's schema (grafana-foundation-sdk) keeps every
    key: a panel option or field setting Grafana does not know would be lost."""
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    plugins.register_default_plugins()
    for name, dash in load_dashboards().items():
        typed = json.loads(json.dumps(Dashboard.from_json(dash), cls=JSONEncoder))
        lost = [p for p in dropped(dash, typed) if not ACCEPTED.search(p)]
        assert not lost, f"{name}: {lost}"
        assert [p["type"] for p in typed["panels"]] == [p["type"] for p in dash["panels"]]
