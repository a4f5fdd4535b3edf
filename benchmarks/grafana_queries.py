"""Grafana's SQL on noc's database: every SQL query of the dashboards, timed on PostgreSQL as the read-only role
``noc_grafana`` over a network of ``--segments`` access segments (plus core and international links) with 30 days
of 5-minute rollups in both directions, ``--cpes`` CPEs with poll status and health, tickets and windows.

Peer, in the same run: noc's own capacity report (``GET /api/v1/capacity/report``: every segment direction's
busy-hour p95 and forecast, computed in Python from the same rollups), against the overview's ranking and the
segment detail's trend, which PostgreSQL computes. The two busy-hour p95 figures of every segment direction are
compared too (they must agree: same rollups, same window).

    .venv/bin/python benchmarks/grafana_queries.py     # NOC_TEST_PG_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line is machine-readable: ``rollups=… slowest_query_ms=… overview_ms=… report_s=… p95_max_diff=…
loadavg=…`` (the machine is shared: the load average says how much else ran).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import sqlalchemy as sa

from noc.capabilities import runtime
from noc.capacity.api import report
from noc.core.db import Database
from noc.core.settings import Settings
from noc.migrations import GRAFANA_READER, set_reader_password, upgrade

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]
STAMP = "now(), now()"


def build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dashboards_build", ROOT / "dashboards" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fill(conn: sa.Connection, segments: int, cpes: int) -> int:
    """The network, its rollups (a daily busy hour, each segment at its own level, climbing a little), CPEs with
    poll status and health, tickets and windows; returns the number of rollups."""
    x = sa.text
    conn.execute(x("INSERT INTO segments (name, kind, capacity_down_mbps, capacity_up_mbps, description, created_at, "
                   f"updated_at) SELECT 'core-' || i, 'core', 100000, 100000, '', {STAMP} "
                   "FROM generate_series(1, 10) i"))
    conn.execute(x("INSERT INTO segments (name, kind, capacity_down_mbps, capacity_up_mbps, description, created_at, "
                   f"updated_at) SELECT 'intl-' || i, 'international', 200000, 200000, '', {STAMP} "
                   "FROM generate_series(1, 4) i"))
    conn.execute(x("INSERT INTO segments (name, kind, parent_id, capacity_down_mbps, capacity_up_mbps, description, "
                   "created_at, updated_at) SELECT 'sg-' || i, 'access', (SELECT min(id) FROM segments), 1000, 200, "
                   f"'', {STAMP} FROM generate_series(1, :n) i"), {"n": segments})
    conn.execute(x("""
        INSERT INTO segment_rollups (segment_id, direction, start, seconds, mean, max, p95, mean_bps, capacity_bps,
                                     points)
        SELECT s.id, d, ts, 300, m, LEAST(1, m + 0.05), LEAST(1, m + 0.03), m * 1e9, 1e9, 5
        FROM segments s
        CROSS JOIN unnest(ARRAY['down', 'up']) d
        CROSS JOIN generate_series(date_trunc('hour', now()) - interval '30 days', now(), interval '5 minutes') ts
        CROSS JOIN LATERAL (SELECT GREATEST(0, LEAST(0.99,
            0.15 + (s.id % 20) * 0.02 + 0.004 * extract(epoch FROM ts - now() + interval '30 days') / 86400
            + 0.25 * exp(-((extract(hour FROM ts AT TIME ZONE 'Europe/Ljubljana') - 21) ^ 2) / 8)
            + 0.03 * random())) AS m) v"""))
    conn.execute(x(f"""
        INSERT INTO cpes (serial, mac, model, profile, port, segment_id, enabled, created_at, updated_at)
        SELECT 'CM' || lpad(i::text, 8, '0'), rtrim(regexp_replace(lpad(to_hex(i), 12, '0'), '(..)', '\\1:', 'g'), ':'),
               'TC4400', 'docsis-cm', 161, (SELECT min(id) FROM segments WHERE kind = 'access') + i % :s, true, {STAMP}
        FROM generate_series(1, :n) i"""), {"n": cpes, "s": segments})
    conn.execute(x("""
        INSERT INTO poll_status (target_kind, target_id, at, ok, duration_s, error, consecutive_failures, last_ok_at,
                                 invalid_readings, invalid_detail)
        SELECT 'cpe', id, now(), id % 50 <> 0, 0.2, CASE WHEN id % 50 = 0 THEN 'timeout' ELSE '' END,
               CASE WHEN id % 50 = 0 THEN 2 ELSE 0 END, now(), 0, '' FROM cpes"""))
    conn.execute(x("""
        INSERT INTO cpe_health (cpe_id, at, grade, findings)
        SELECT id, now(), (ARRAY['good', 'good', 'good', 'marginal', 'bad'])[1 + id % 5], '[]' FROM cpes"""))
    conn.execute(x("""
        INSERT INTO upgrade_tickets (segment_id, direction, rule, state, priority, detail, threshold, first_value,
                                     latest_peak, breach_count, last_breach_at, predicted_date, opened_at, updated_at,
                                     note)
        SELECT id, 'down', CASE WHEN id % 2 = 0 THEN 'forecast' ELSE 'sustained' END, 'open', 'high', '', 0.7, 0.7,
               0.75, 1, now(), CASE WHEN id % 2 = 0 THEN current_date + (id % 60) END,
               now() - (id % 9) * interval '1 day', now(), ''
        FROM segments WHERE kind = 'access' AND id % 5 = 0"""))
    conn.execute(x("""
        INSERT INTO maintenance_windows (kind, title, reason, impact, description_sl, description_en, emergency,
                                         starts_at, ends_at, sequence, created_by, created_at)
        SELECT 'planned', 'Works ' || i, '', 'outage', '', '', false, now() + i * interval '1 day',
               now() + i * interval '1 day' + interval '4 hours', 0, 'bench', now()
        FROM generate_series(-3, 5) i"""))
    conn.execute(x("""
        INSERT INTO maintenance_window_segments (window_id, segment_id)
        SELECT w.id, s.id FROM maintenance_windows w JOIN segments s ON s.kind = 'access' AND s.id % 40 = w.id % 40"""))
    conn.execute(x("ANALYZE"))
    return int(conn.execute(x("SELECT count(*) FROM segment_rollups")).scalar_one())


def timed(connection: psycopg.Connection[Any], query: str, runs: int) -> tuple[float, int]:
    """Median seconds of ``runs`` executions, and the rows returned."""
    times, rows = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        rows = len(connection.execute(query).fetchall())  # type: ignore[call-overload]
        times.append(time.perf_counter() - began)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100, help="access segments (default 100)")
    parser.add_argument("--cpes", type=int, default=100_000, help="CPEs (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per query (median)")
    args = parser.parse_args()
    build = build_module()
    schema = f"bench_grafana_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    db = Database(url)
    try:
        upgrade(db)
        began = time.perf_counter()
        with db.engine.begin() as conn:
            rollups = fill(conn, args.segments, args.cpes)
        print(f"filled {rollups:,} rollups, {args.cpes:,} CPEs in {time.perf_counter() - began:.1f} s")
        set_reader_password(db, "bench")
        u = db.engine.url
        info = psycopg.conninfo.make_conninfo(host=u.host, port=u.port, dbname=u.database, user=GRAFANA_READER,
                                              password="bench", options=f"-csearch_path={schema}")
        end = datetime.now(UTC)
        values = {"segment": "sg-1", "cpe": "00:00:00:00:00:2a", "device": "CM00000042"}
        results: dict[str, tuple[float, int]] = {}
        with psycopg.connect(info, autocommit=True) as reader:
            for name in sorted(build.DASHBOARDS):
                dash = json.loads((ROOT / "dashboards" / "json" / name).read_text())
                days = 30 if dash["uid"] == "noc-segment-detail" else 7
                for where, query, _ in build.sql_queries(dash):
                    sql = build.grafana_sql(query, values, end - timedelta(days=days), end)
                    results[where] = timed(reader, sql, args.runs)
            ranking_sql = next(q for w, q, _ in build.sql_queries(build.overview()) if "busy-hour p95" in w)
            everyone = build.grafana_sql(ranking_sql.replace("LIMIT 25", ""), values, end, end)
            ranking = reader.execute(everyone).fetchall()  # type: ignore[call-overload]
        width = max(len(w) for w in results)
        for where, (seconds, rows) in results.items():
            print(f"{where:<{width}}  {seconds * 1000:8.1f} ms  {rows:6d} rows")
        overview_s = sum(s for w, (s, _) in results.items() if w.startswith("noc-overview"))
        settings = Settings(database_url=url, data_dir=Path("/tmp") / schema, secret_key="bench-secret-key-0123456789")
        rt = runtime(settings, db)
        try:
            began = time.perf_counter()
            with db.read_session() as s:
                rows = report(rt, s, None)  # type: ignore[arg-type]
            report_s = time.perf_counter() - began
        finally:
            rt.close()
        ours = {f"{r['segment']} {r['direction']}": r["busy_hour_p95"] for r in rows if r["busy_hour_p95"] is not None}
        diffs = [abs(ours[k] - v) for k, v in ranking if k in ours]
        print(f"overview SQL queries together: {overview_s * 1000:.0f} ms; noc's capacity report (Python, same "
              f"rollups): {report_s:.1f} s; busy-hour p95 of {len(diffs)} segment directions compared, largest "
              f"difference {max(diffs):.2e}")
        slowest = max(results.items(), key=lambda item: item[1][0])
        print(f"rollups={rollups} slowest_query_ms={slowest[1][0] * 1000:.1f} overview_ms={overview_s * 1000:.1f} "
              f"report_s={report_s:.2f} p95_max_diff={max(diffs):.2e} loadavg={os.getloadavg()[0]:.2f}")
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
