"""Speed complaints: the discrepancy record and evidence pack of one subscriber with 10,000 measurements, and the
import of 1,000,000 measurements on PostgreSQL against PostgreSQL's own COPY of the same file.

Goals (issue 12): record and pack in under 2 s for 10,000 measurements; import at 20,000 rows/s or more.

1. **Record + pack.** A temporary database (SQLite by default; ``--record-db pg`` for PostgreSQL) with one
   subscriber on an access segment, 10,000 measurements over 60 days (LAN and WLAN, some in the peak hours),
   the segment's 5-minute rollups for those days (both directions, ~34,600 rows) and CPE capture readings every
   15 minutes. Timed, ``--runs`` times (median): ``build_record`` (queries, the method, context, causes) with its
   JSON document, and ``build_pack`` (PDF, JSON, CSV, manifest, zip). The process is warmed by one untimed run
   (imports, font parsing).
2. **Import.** A CSV of ``--rows`` RMBT records for 1,000 subscribers in a fresh PostgreSQL schema; timed:
   ``MeasurementWriter.store`` — read, check every row, resolve subscribers, look for repeated test ids, COPY, and
   commit. Peers, in the same run: ``psql \\copy`` of the very same file into a plain table with the file's
   columns (no checks, no index but the primary key), and ``psql \\copy`` of the checked rows (COPY text) into an
   empty ``measurements`` table with its foreign key and indexes — PostgreSQL's own ceiling for this table.

    .venv/bin/python benchmarks/complaints.py            # NOC_TEST_PG_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line is machine-readable: ``record_s=… pack_s=… cpu_s=… import_rows_per_s=… psql_copy_plain_rows_per_s=…
psql_copy_table_rows_per_s=… import_cpu_us_per_row=… backend_cpu_us_per_row=… loadavg=…`` (the machine is shared: the
load average says how much else ran; CPU figures, the process's own — the pack's second thread included — and its
PostgreSQL backend's, are disturbed less by it than wall times).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from noc.capacity.models import SegmentRollup
from noc.complaints.measurements import STORED, MeasurementWriter, copy_rows, parse_row, read_records
from noc.complaints.models import CaptureReading, ComplaintCase, Measurement
from noc.complaints.pack import build_pack
from noc.complaints.profiles import load_profiles
from noc.complaints.record import build_record
from noc.core.db import Database
from noc.core.security import Actor
from noc.inventory.models import Contract, Cpe, Package, Segment, Subscriber
from noc.migrations import upgrade

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ZONE = ZoneInfo("Europe/Ljubljana")
ACTOR = Actor("bench", "admin")
BENCH_SECRET = "benchmark-secret-key-0123456789abcdef"
HEADER = ["open_test_uuid", "time_utc", "download_kbit", "upload_kbit", "ping_ms", "jitter_ms", "network_type",
          "server_name", "subscriber"]


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL at PG_URL; yields a URL whose search_path is that schema."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def inventory(db: Database, subscribers: int) -> tuple[int, int, int]:
    """A package, a segment, ``subscribers`` subscribers with contracts, one CPE for the first; their ids."""
    with db.session() as s:
        package = Package(code="cable-250", name="Kabel 250/25", download_mbps=250, upload_mbps=25,
                          normal_download_mbps=200, normal_upload_mbps=20, min_download_mbps=125, min_upload_mbps=12.5)
        segment = Segment(name="sg-1", kind="access", capacity_down_mbps=1600, capacity_up_mbps=200, rules={})
        s.add_all([package, segment])
        s.flush()
        s.execute(sa.insert(Subscriber), [{"number": f"S-{i}", "username": f"u{i}", "name": f"Naročnik {i}",
                                           "tax_number": "28159080", "language": "sl"} for i in range(subscribers)])
        first = s.scalar(sa.select(Subscriber.id).where(Subscriber.number == "S-0"))
        assert first is not None
        everyone = list(s.scalars(sa.select(Subscriber.id)))
        s.execute(sa.insert(Contract), [{"subscriber_id": sid, "package_id": package.id,
                                         "start_date": date(2020, 1, 1)} for sid in everyone])
        cpe = Cpe(serial="CM1", mac="aa:bb:cc:00:00:01", model="TC4400", subscriber_id=first, segment_id=segment.id)
        s.add(cpe)
        s.flush()
        return first, segment.id, cpe.id


def record_setup(db: Database, measurements: int, days: int) -> tuple[int, date, date]:
    """One subscriber's measurements, the segment's rollups and capture readings over ``days``."""
    rng = random.Random(1)
    subscriber_id, segment_id, cpe_id = inventory(db, 1)
    end = datetime.now(ZONE).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    first = datetime.combine(start, datetime.min.time(), ZONE).astimezone(UTC)
    span = days * 86400
    with db.session() as s:
        case = ComplaintCase(subscriber_id=subscriber_id, channel="phone", learned_on=start, lodged_on=end,
                             lodging_deadline=end, decision_due=end, profile="si-akos", period_from=start,
                             period_to=end, capture_until=first, created_by="bench", description="",
                             decision_note="", capture_end_reason="")
        s.add(case)
        s.flush()
        times = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(measurements))
        s.execute(sa.insert(Measurement), [{
            "subscriber_id": subscriber_id, "open_test_uuid": f"O{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "time_utc": at, "download_kbit": rng.randint(90_000, 260_000), "upload_kbit": rng.randint(9_000, 26_000),
            "ping_ms": rng.uniform(8, 30), "jitter_ms": rng.uniform(0.5, 4), "packet_loss": 0.0,
            "server_name": "AKOS Test Net", "platform": "Windows", "medium": "lan" if rng.random() < 0.85 else "wlan",
            "source_sha256": "0" * 64} for at in times])
        s.execute(sa.insert(SegmentRollup), [{
            "segment_id": segment_id, "direction": d, "start": first + timedelta(seconds=300 * k), "seconds": 300,
            "mean": (u := rng.uniform(0.2, 0.9)), "max": min(1.0, u + 0.05), "p95": min(1.0, u + 0.03),
            "mean_bps": u * 1.6e9, "capacity_bps": 1.6e9, "points": 5}
            for k in range(span // 300) for d in ("down", "up")])
        readings = json.dumps([{"rule": "ds_snr_qam256", "measurement": "cm_downstream", "tags": {"channel": "1"},
                                "field": "snr_db", "value": 31.0, "grade": "marginal"}])
        s.execute(sa.insert(CaptureReading), [{
            "case_id": case.id, "cpe_id": cpe_id, "at": first + timedelta(minutes=15 * k), "ok": True,
            "grade": "marginal" if k % 7 == 0 else "good", "readings": readings, "error": ""}
            for k in range(span // 900)])
    return subscriber_id, start, end


def time_record_and_pack(db: Database, runs: int, measurements: int, days: int) -> tuple[float, float, float, str]:
    """Medians of the record's and the pack's wall time, of both's CPU time, and a description of the pack."""
    subscriber_id, start, end = record_setup(db, measurements, days)
    profile = load_profiles()["si-akos"]
    record_times, pack_times, cpu_times = [], [], []
    size = ""
    for run in range(runs + 1):
        with db.read_session() as s:
            began, cpu = time.perf_counter(), time.process_time()
            record = build_record(s, subscriber_id, start, end, profile)
            document = record.document()
            built = time.perf_counter()
            case = {"id": 1, "decision_due": end, "regulator_window": {"opens": end, "closes": end,
                                                                         "basis": "no_decision"},
                    "channel": "phone", "learned_on": start, "invoice_date": start, "lodged_on": end,
                    "lodging_deadline": end, "late": False}
            content, _ = build_pack(case, document, 1, datetime.now(UTC).replace(microsecond=0), "Europe/Ljubljana")
            packed, cpu = time.perf_counter(), time.process_time() - cpu
        assert len(document["measurements"]) == measurements
        if run:  # the first run warms up imports and the font
            record_times.append(built - began)
            pack_times.append(packed - built)
            cpu_times.append(cpu)
            size = f"{len(content) / 2**20:.1f} MiB zip, verdict {record.verdict}, cause {record.cause}"
    return statistics.median(record_times), statistics.median(pack_times), statistics.median(cpu_times), size


def write_csv(path: Path, rows: int, subscribers: int) -> None:
    rng = random.Random(2)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(rows):
            at = start + timedelta(seconds=i * 17)
            writer.writerow([f"O{uuid.UUID(int=rng.getrandbits(128), version=4)}", at.strftime("%Y-%m-%d %H:%M:%S"),
                             rng.randint(50_000, 1_000_000), rng.randint(5_000, 100_000), f"{rng.uniform(5, 40):.1f}",
                             f"{rng.uniform(0.2, 5):.2f}", "LAN" if i % 7 else "WLAN", "AKOS Test Net",
                             f"S-{i % subscribers}"])


def psql(dsn_url: str, schema: str, table: str, columns: list[str] | tuple[str, ...], path: Path,
         csv_format: bool) -> float:
    """Seconds ``psql \\copy`` takes to load ``path`` into ``schema.table``."""
    dsn = make_url(dsn_url).set(drivername="postgresql").render_as_string(hide_password=False)
    options = " WITH (FORMAT csv, HEADER)" if csv_format else ""
    began = time.perf_counter()
    subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-q", "-c",
                    f"\\copy {schema}.{table} ({', '.join(columns)}) FROM '{path}'{options}"], check=True)
    return time.perf_counter() - began


def schema_of(url: str) -> str:
    return url.rsplit("%3D", 1)[-1]


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend on this machine has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_import(rows: int, subscribers: int, directory: Path) -> tuple[float, float, float, float, float]:
    """Rows/s of noc's import, of psql's \\copy of the same CSV into a plain table, and of psql's \\copy of the
    checked rows into a second, empty ``measurements`` table (its foreign key and indexes: the server's ceiling);
    then the CPU microseconds per row of noc's import: its own process's, and its PostgreSQL backend's."""
    path = directory / "measurements.csv"
    write_csv(path, rows, subscribers)
    with pg_schema("bench_import") as url:
        db = Database(url)
        db.attach_secret(lambda: BENCH_SECRET)  # the import's audit entry is chained with a key derived from it
        upgrade(db)
        inventory(db, subscribers)
        with db.session() as s:
            pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            began, cpu, server = time.perf_counter(), time.process_time(), backend_cpu(pid)
            content = path.read_bytes()
            result = MeasurementWriter(s, ACTOR, via="benchmark").store(content, read_records(path.name, content))
            s.commit()
            ours, cpu, server = time.perf_counter() - began, time.process_time() - cpu, backend_cpu(pid) - server
        assert result.stored == rows
        with db.read_session() as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(Measurement)) == rows
            ids = {number: sid for number, sid in s.execute(sa.select(Subscriber.number, Subscriber.id))}
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE rmbt_raw (id bigserial PRIMARY KEY, open_test_uuid text, "
                                 "time_utc timestamp, download_kbit integer, upload_kbit integer, ping_ms double "
                                 "precision, jitter_ms double precision, network_type text, server_name text, "
                                 "subscriber text)"))
        plain = psql(PG_URL, schema_of(url), "rmbt_raw", HEADER, path, csv_format=True)
        db.dispose()
    checked = []
    for n, raw in read_records(path.name, content).rows:
        parsed = parse_row(raw, n)
        parsed.values["subscriber_id"] = ids[parsed.subscriber]
        checked.append(parsed)
    text = directory / "measurements.copy"
    text.write_bytes(copy_rows(checked, "0" * 64, datetime.now(UTC)))
    del checked
    with pg_schema("bench_ceiling") as url:
        db = Database(url)
        upgrade(db)
        inventory(db, subscribers)
        ceiling = psql(PG_URL, schema_of(url), "measurements", STORED, text, csv_format=False)
        db.dispose()
    return rows / ours, rows / plain, rows / ceiling, cpu / rows * 1e6, server / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measurements", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subscribers", type=int, default=1_000)
    parser.add_argument("--record-db", choices=("sqlite", "pg"), default="sqlite")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if args.record_db == "sqlite":
            db = Database(f"sqlite:///{directory / 'record.db'}")
            upgrade(db)
            record_s, pack_s, cpu_s, size = time_record_and_pack(db, args.runs, args.measurements, args.days)
            db.dispose()
        else:
            with pg_schema("bench_record") as url:
                db = Database(url)
                upgrade(db)
                record_s, pack_s, cpu_s, size = time_record_and_pack(db, args.runs, args.measurements, args.days)
                db.dispose()
        print(f"record of {args.measurements:,} measurements ({args.record_db}): {record_s:.3f} s; "
              f"pack: {pack_s:.3f} s; together {record_s + pack_s:.3f} s (goal < 2 s), CPU {cpu_s:.3f} s; {size}")
        ours, peer, ceiling, client_us, server_us = time_import(args.rows, args.subscribers, directory)
        print(f"import of {args.rows:,} rows on PostgreSQL: {ours:,.0f} rows/s (goal >= 20,000); psql \\copy of the "
              f"same file into a plain table: {peer:,.0f} rows/s; psql \\copy of the checked rows into an empty "
              f"measurements table (foreign key, unique test id, subscriber/time index): {ceiling:,.0f} rows/s; "
              f"noc / that = {ours / ceiling:.2f}; CPU per row: noc {client_us:.1f} us, its PostgreSQL backend "
              f"{server_us:.1f} us")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"record_s={record_s:.3f} pack_s={pack_s:.3f} cpu_s={cpu_s:.3f} import_rows_per_s={ours:.0f} "
          f"psql_copy_plain_rows_per_s={peer:.0f} psql_copy_table_rows_per_s={ceiling:.0f} "
          f"import_cpu_us_per_row={client_us:.1f} backend_cpu_us_per_row={server_us:.1f} "
          f"loadavg={load.replace(' ', '/')}")


if __name__ == "__main__":
    main()
