"""EmbeddedStore: a small series store in one SQLite file (WAL) for installations without InfluxDB.

It is a :class:`~collectors.sinks.protocol.Sink` (a writer thread commits queued samples once a second)
and answers the few questions the API and the demo ask: the points of some series over a time range, the
last point, the series of a measurement. Points older than the retention (default 7 days) are deleted
every ``prune_interval`` seconds. Writing the same series (measurement + tag set) at the same second
merges the fields, as InfluxDB does. A full queue slows the writer of samples down (backpressure) rather than
dropping any. It keeps up with a 100,000-CPE fleet health cycle (4.3 million points, as many series; see
docs/benchmarks.md), but its readers are simple scans: for long history and dashboards of such a fleet, InfluxDB.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import orjson

from collectors.samples import FieldValue, Sample
from collectors.sinks.batching import BatchWriter
from collectors.sinks.lineproto import clean_fields, valid_field

log = logging.getLogger(__name__)

DEFAULT_RETENTION_S = 7 * 86400
WRITER_CACHE_KIB = 64 * 1024
"""SQLite page cache of the writer connection: the series index of a 100,000-CPE fleet (millions of series) is
written all over; SQLite's default 2 MiB cache would send most of those writes to disk and back."""
STORE_ATTEMPTS = 3
"""Tries of one batch before its samples are dropped and counted (seconds apart: 1, 2)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (measurement, tags)
);
CREATE TABLE IF NOT EXISTS series_tags (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    series_id INTEGER NOT NULL,
    PRIMARY KEY (name, value, series_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (series_id, time)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS points_time ON points (time);
DROP TRIGGER IF EXISTS series_tags_of_new_series;
"""
"""(Stores written before tags were inserted by :meth:`EmbeddedStore._insert` filled series_tags by a trigger
that parsed each new series' JSON: half of the store's work in a fleet's first cycle.)"""

_BATCH_TABLE = "CREATE TEMP TABLE IF NOT EXISTS batch (measurement TEXT, tags TEXT, time INTEGER, fields TEXT)"
"""A batch's storable points, staged: measurement, canonical tags (JSON text), time, fields (JSON text)."""
_CANONICAL_TAGS = (
    "(SELECT json_group_array(json_array(tname, tvalue)) FROM (SELECT t.value ->> 0 AS tname, t.value ->> 1 AS tvalue, "
    "max(t.key) FROM json_each(s.value, '$.tags') AS t WHERE tname <> '' AND tvalue <> '' GROUP BY tname "
    "ORDER BY tname))"
)
"""A sample's tags as :func:`_canonical_tags` and :func:`_tags_text` give them, in SQL (ASCII samples only: SQLite
writes other characters unescaped)."""
_STAGE_SAMPLES = (
    "INSERT INTO temp.batch SELECT * FROM (SELECT s.value ->> 'measurement' AS measurement, "
    f"{_CANONICAL_TAGS} AS tags, CAST(s.value ->> 'time' AS INTEGER) AS time, "
    "json_patch('{}', s.value -> 'fields') AS fields FROM json_each(?) AS s) "
    "WHERE measurement <> '' AND time >= ? AND fields <> '{}'"
)
"""Stage a batch of samples serialized by orjson as they are, every step of :meth:`EmbeddedStore._insert` in SQL
(json_patch leaves out the null that orjson writes for NaN and infinities)."""
_STAGED_NON_SCALAR = (
    "SELECT EXISTS (SELECT 1 FROM temp.batch WHERE (instr(substr(fields, 2), '[') OR instr(substr(fields, 2), '{')) "
    "AND EXISTS (SELECT 1 FROM json_each(fields) WHERE type IN ('array', 'object')))"
)
"""Whether a staged point has a field that is no number, string or boolean (those are dropped, as in Python)."""
_STAGE_ROWS = (
    "INSERT INTO temp.batch SELECT value ->> 0, value ->> 1, value ->> 2, value -> 3 FROM json_each(?)"
)
"""Stage a batch prepared in Python (a JSON array of [measurement, tags, time, fields])."""
_NEW_SERIES = (
    "INSERT INTO series (measurement, tags) SELECT DISTINCT measurement, tags FROM temp.batch WHERE true "
    "ON CONFLICT (measurement, tags) DO NOTHING"
)
"""The staged points' series that do not exist yet."""
_NEW_TAGS = (
    "INSERT OR IGNORE INTO series_tags (name, value, series_id) SELECT t.value ->> 0, t.value ->> 1, s.id "
    "FROM series AS s, json_each(s.tags) AS t WHERE s.id > ?"
)
"""The tag rows of the series created after the given id (new rows get ids above the largest one)."""
_UPSERT_POINTS = (
    "INSERT INTO points (series_id, time, fields) SELECT s.id, b.time, b.fields FROM temp.batch AS b "
    "JOIN series AS s ON s.measurement = b.measurement AND s.tags = b.tags WHERE true "
    "ON CONFLICT (series_id, time) DO UPDATE SET fields = json_patch(points.fields, excluded.fields)"
)
"""The staged points, each finding its series in SQL: millions of series need no cache in Python, and SQLite
does the work without the GIL."""
SAMPLE_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER | orjson.OPT_PASSTHROUGH_DATETIME
"""How a batch is serialized for :data:`_STAGE_SAMPLES`: field names sorted (as stored), and a TypeError (the batch is
then prepared in Python) for what SQL would not check: integers beyond 53 bits, dates, other types."""


def _sample_payload(batch: Sequence[Sample]) -> bytes | None:
    """``batch`` as JSON for :data:`_STAGE_SAMPLES`, or None when it needs preparing in Python: non-ASCII or control
    characters (stored escaped), an empty field name, a value orjson would not write as a JSON scalar."""
    try:
        payload = orjson.dumps(batch, option=SAMPLE_JSON)
    except TypeError:
        return None
    if not payload.isascii() or b"\\u00" in payload or b'"":' in payload:
        return None
    return payload


def _storable(fields: Mapping[str, FieldValue]) -> Mapping[str, FieldValue]:
    """``fields`` as they are when every one can be stored (the poller's samples), else :func:`clean_fields`."""
    return fields if all(name and valid_field(value) for name, value in fields.items()) else clean_fields(fields)


def _tags_text(tags: tuple[tuple[str, str], ...]) -> str:
    """A series' tags as stored: compact JSON with non-ASCII characters escaped (as stores have always had them)."""
    text = orjson.dumps(tags).decode()
    return text if text.isascii() else _ascii_json(tags)


_ascii_json = json.JSONEncoder(separators=(",", ":")).encode


def _canonical_tags(tags: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Tags sorted by name, empty names/values left out, the last value of a repeated name kept."""
    return tuple(sorted({k: v for k, v in tags if k and v}.items()))


def _prepared(batch: Sequence[Sample], cutoff: int) -> bytes:
    """The storable points of ``batch`` as a JSON array of [measurement, tags, time, fields] for
    :data:`_STAGE_ROWS` (the path for batches SQL cannot take as they are)."""
    rows: list[tuple[str, str, int, Mapping[str, FieldValue]]] = []
    tags_json: dict[tuple[tuple[str, str], ...], str] = {}
    for sample in batch:
        values = _storable(sample.fields)
        if not values or not sample.measurement or sample.time < cutoff:
            continue
        tags = tags_json.get(sample.tags)
        if tags is None:
            tags = tags_json[sample.tags] = _tags_text(_canonical_tags(sample.tags))
        rows.append((sample.measurement, tags, int(sample.time), values))
    return orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)


def _series_filter(measurement: str, tags: Mapping[str, str] | None) -> tuple[str, list[object]]:
    """SQL condition on ``series`` (alias ``s``) for a measurement and a subset of its tags."""
    sql = "s.measurement = ?"
    params: list[object] = [measurement]
    for name, value in sorted((tags or {}).items()):
        sql += " AND s.id IN (SELECT series_id FROM series_tags WHERE name = ? AND value = ?)"
        params += [name, value]
    return sql, params


class EmbeddedStore(BatchWriter[Sample]):
    """Series in a SQLite file: a Sink, plus ``query``, ``last`` and ``series`` for readers."""

    label = "embedded store"
    unit = "samples"
    logger = log

    def __init__(
        self,
        path: Path,
        *,
        retention_s: int = DEFAULT_RETENTION_S,
        flush_interval: float = 1.0,
        batch_size: int = 5000,
        max_queue_points: int = 200_000,
        prune_interval: float = 300.0,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue_points=max_queue_points,
            counters=("points_written_total", "points_pruned_total", "samples_skipped_total"),
        )
        self.path = Path(path)
        self.retention_s = retention_s
        self.prune_interval = prune_interval
        self.read_only = read_only
        self._clock = clock
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not read_only:  # readable by its owner only (SQLite gives the -wal and -shm files the same mode)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            self.path.chmod(0o600)
        self._db = self._connect()
        if not read_only:
            self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            self._db.executescript(_SCHEMA)
            self._db.execute("PRAGMA temp_store = MEMORY")
            self._db.execute(_BATCH_TABLE)
        self._reader = self._connect()
        self._db_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._series_count = 0
        self._next_prune = 0.0
        if not read_only:
            self.prune()
            self._next_prune = time.monotonic() + prune_interval
            self._start("noc-embedded-store")

    def __repr__(self) -> str:
        return f"EmbeddedStore(path={str(self.path)!r}, retention_s={self.retention_s})"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    # -- Sink --------------------------------------------------------------------------------------------

    def write(self, samples: Sequence[Sample]) -> None:
        """Queue ``samples`` for the writer thread."""
        if self.read_only:
            raise RuntimeError("store is read-only")
        self._enqueue(samples)

    def close(self) -> None:
        """Commit what is queued, stop the writer and close the database."""
        if not self._stop():
            return
        with self._db_lock, self._read_lock:
            if not self.read_only:
                self._db.execute("PRAGMA optimize")
            self._reader.close()
            self._db.close()

    def stats(self) -> dict[str, float]:
        """Counters and gauges: queue, series, database size on disk."""
        out = self._snapshot()
        out["series"] = float(self._series_count)
        size = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(FileNotFoundError):
                size += (self.path.parent / (self.path.name + suffix)).stat().st_size
        out["db_bytes"] = float(size)
        return out

    # -- reading -----------------------------------------------------------------------------------------

    def query(
        self,
        measurement: str,
        tags: Mapping[str, str] | None,
        start: int,
        end: int,
        fields: Sequence[str] | None = None,
        *,
        limit: int | None = None,
    ) -> list[Sample]:
        """Points of the series of ``measurement`` whose tags include ``tags``, with ``start <= time < end``.

        Ordered by time, then series. ``fields`` keeps only those fields (points with none of them are left
        out). Tags come back sorted by name. Only committed points are seen (see :meth:`flush`).
        """
        where, params = _series_filter(measurement, tags)
        sql = (
            "SELECT s.tags, p.time, p.fields FROM points p JOIN series s ON s.id = p.series_id "
            f"WHERE {where} AND p.time >= ? AND p.time < ? ORDER BY p.time, p.series_id"
        )
        params += [int(start), int(end)]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._read_lock:
            rows = self._reader.execute(sql, params).fetchall()
        wanted = set(fields) if fields is not None else None
        out: list[Sample] = []
        for tags_json, t, fields_json in rows:
            values: dict[str, FieldValue] = json.loads(fields_json)
            if wanted is not None:
                values = {k: v for k, v in values.items() if k in wanted}
                if not values:
                    continue
            out.append(Sample(measurement, tuple((k, v) for k, v in json.loads(tags_json)), values, t))
        return out

    def last(self, measurement: str, tags: Mapping[str, str] | None = None) -> Sample | None:
        """The newest point among the series of ``measurement`` whose tags include ``tags``."""
        where, params = _series_filter(measurement, tags)
        sql = (
            "SELECT s.id, s.tags, (SELECT max(time) FROM points WHERE series_id = s.id) AS t "
            f"FROM series s WHERE {where} AND t IS NOT NULL ORDER BY t DESC, s.id LIMIT 1"
        )
        with self._read_lock:
            row = self._reader.execute(sql, params).fetchone()
            if row is None:
                return None
            series_id, tags_json, t = row
            fields_row = self._reader.execute(
                "SELECT fields FROM points WHERE series_id = ? AND time = ?", (series_id, t)
            ).fetchone()
        if fields_row is None:
            return None
        return Sample(measurement, tuple((k, v) for k, v in json.loads(tags_json)), json.loads(fields_row[0]), t)

    def series(self, measurement: str, tags: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        """The tag sets of the series of ``measurement`` whose tags include ``tags``."""
        where, params = _series_filter(measurement, tags)
        with self._read_lock:
            rows = self._reader.execute(f"SELECT s.tags FROM series s WHERE {where} ORDER BY s.tags", params)
            return [dict(json.loads(r[0])) for r in rows.fetchall()]

    def measurements(self) -> list[str]:
        """The measurements that have series."""
        with self._read_lock:
            return [r[0] for r in self._reader.execute("SELECT DISTINCT measurement FROM series ORDER BY 1")]

    # -- retention ---------------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete points older than the retention, and series left without points; the count deleted."""
        if self.read_only:
            return 0
        cutoff = int((self._clock() if now is None else now) - self.retention_s)
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                deleted = self._db.execute("DELETE FROM points WHERE time < ?", (cutoff,)).rowcount
                if deleted:
                    self._db.execute(
                        "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM points WHERE series_id = series.id)"
                    )
                    self._db.execute("DELETE FROM series_tags WHERE series_id NOT IN (SELECT id FROM series)")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if deleted:
                self._db.execute("PRAGMA incremental_vacuum")
            self._series_count = self._db.execute("SELECT count(*) FROM series").fetchone()[0]
        self._count("points_pruned_total", deleted)
        return deleted

    # -- writer thread -----------------------------------------------------------------------------------

    def _chore_at(self) -> float:
        return self._next_prune

    def _handle(self, batch: list[Sample], chore_due: bool, stopping: bool) -> None:
        if batch:
            self._store(batch)
        if chore_due:
            self._next_prune = time.monotonic() + self.prune_interval
            try:
                self.prune()
            except sqlite3.Error as exc:
                log.error("embedded store: retention pass failed: %s", exc)

    def _store(self, batch: list[Sample]) -> None:
        """Insert ``batch``, holding it (and so, through the bounded queue, the producers) through
        ``STORE_ATTEMPTS`` failures a second apart (a lock held elsewhere); then drop and count it (disk full)."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                self._insert(batch)
            except sqlite3.Error as exc:
                if attempt == STORE_ATTEMPTS:
                    self._lost(len(batch), f"could not store them after {attempt} attempts: {exc}")
                    return
                time.sleep(attempt)
            else:
                self._stored()
                return

    def _insert(self, batch: list[Sample]) -> None:
        """Store one batch in one transaction: staged (in SQL from the samples' JSON when it can be, else
        prepared in Python), then its new series and their tags, then the points, each finding its series by
        (measurement, tags) in SQL."""
        cutoff = int(self._clock()) - self.retention_s
        payload = _sample_payload(batch)
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM temp.batch")
                if payload is not None:
                    staged = self._db.execute(_STAGE_SAMPLES, (payload, cutoff)).rowcount
                    if self._db.execute(_STAGED_NON_SCALAR).fetchone()[0]:
                        self._db.execute("DELETE FROM temp.batch")
                        payload = None
                if payload is None:
                    staged = self._db.execute(_STAGE_ROWS, (_prepared(batch, cutoff),)).rowcount
                last_id = self._db.execute("SELECT coalesce(max(id), 0) FROM series").fetchone()[0]
                created = self._db.execute(_NEW_SERIES).rowcount
                if created:
                    self._db.execute(_NEW_TAGS, (last_id,))
                written = self._db.execute(_UPSERT_POINTS).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._series_count += created
        with self._cond:
            self._counters["points_written_total"] += written
            self._counters["samples_skipped_total"] += len(batch) - staged
