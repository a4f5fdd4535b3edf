"""EmbeddedStore: write, query, last, series, field merge, retention, reopening."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.samples import Sample
from collectors.sinks import EmbeddedStore, Sink

NOW = 1_800_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "series.db", clock=lambda: NOW)
    yield s
    s.close()


def _iface(device: str, ifindex: int, t: int, bps: float) -> Sample:
    return Sample("interface", (("ifindex", str(ifindex)), ("device", device)),
                  {"in_bps": bps, "out_bps": bps / 2, "in_octets": int(bps) * 10, "valid": True}, t)


def test_is_a_sink(store: EmbeddedStore) -> None:
    assert isinstance(store, Sink)


def test_query_by_tags_range_and_fields(store: EmbeddedStore) -> None:
    samples = [_iface(d, i, NOW - 300 + 60 * k, 1000.0 * k + i) for k in range(5) for d in ("r1", "r2") for i in (1, 2)]
    store.write(samples)
    store.flush(timeout=10)

    everything = store.query("interface", None, NOW - 3600, NOW + 1)
    assert len(everything) == 20
    assert [s.time for s in everything] == sorted(s.time for s in everything)

    r1_1 = store.query("interface", {"device": "r1", "ifindex": "1"}, NOW - 240, NOW - 120)
    assert [(s.time, s.fields["in_bps"]) for s in r1_1] == [(NOW - 240, 1001.0), (NOW - 180, 2001.0)]
    assert r1_1[0].tags == (("device", "r1"), ("ifindex", "1"))
    assert r1_1[0].fields == {"in_bps": 1001.0, "out_bps": 500.5, "in_octets": 10010, "valid": True}
    assert isinstance(r1_1[0].fields["in_octets"], int) and isinstance(r1_1[0].fields["in_bps"], float)

    only = store.query("interface", {"device": "r2"}, NOW - 3600, NOW + 1, fields=["in_bps"], limit=3)
    assert len(only) == 3 and all(set(s.fields) == {"in_bps"} and s.tag("device") == "r2" for s in only)
    assert store.query("interface", {"device": "r9"}, 0, NOW + 1) == []
    assert store.query("interface", None, 0, NOW + 1, fields=["nope"]) == []
    assert store.series("interface", {"ifindex": "2"}) == [
        {"device": "r1", "ifindex": "2"}, {"device": "r2", "ifindex": "2"}]
    assert store.measurements() == ["interface"]


def test_last(store: EmbeddedStore) -> None:
    store.write([_iface("r1", 1, NOW - 120, 1.0), _iface("r1", 1, NOW - 60, 2.0), _iface("r1", 2, NOW - 30, 3.0)])
    store.flush(timeout=10)
    one = store.last("interface", {"device": "r1", "ifindex": "1"})
    assert one is not None and one.time == NOW - 60 and one.fields["in_bps"] == 2.0
    newest = store.last("interface", {"device": "r1"})
    assert newest is not None and newest.tag("ifindex") == "2"
    assert store.last("interface", {"device": "zz"}) is None
    assert store.last("segment") is None


def test_same_series_same_second_merges_fields(store: EmbeddedStore) -> None:
    tags = (("device", "CPE1"), ("channel", "3"))
    store.write([Sample("cm_downstream", tags, {"power_dbmv": 1.5}, NOW)])
    store.flush(timeout=10)
    store.write([Sample("cm_downstream", tags, {"snr_db": 38.0, "power_dbmv": 2.0}, NOW),
                 Sample("cm_downstream", tags, {"x": math.nan}, NOW)])
    store.flush(timeout=10)
    got = store.last("cm_downstream", {"device": "CPE1"})
    assert got is not None and got.fields == {"power_dbmv": 2.0, "snr_db": 38.0}
    assert store.stats()["samples_skipped_total"] == 1


def test_retention_prunes_points_and_empty_series(tmp_path: Path) -> None:
    clock = [float(NOW)]
    store = EmbeddedStore(tmp_path / "s.db", retention_s=3600, clock=lambda: clock[0])
    store.write([_iface("old", 1, NOW - 1800, 1.0), _iface("new", 1, NOW - 10, 2.0), _iface("new", 1, NOW - 7200, 0.0)])
    store.flush(timeout=10)
    assert [s.tag("device") for s in store.query("interface", None, 0, NOW + 1)] == ["old", "new"]  # 7200 s: expired
    clock[0] = NOW + 1900
    assert store.prune() == 1
    assert store.series("interface") == [{"device": "new", "ifindex": "1"}]
    stats = store.stats()
    assert stats["points_pruned_total"] == 1 and stats["series"] == 1 and stats["db_bytes"] > 0
    store.write([_iface("old", 1, NOW + 1890, 5.0)])  # its series was deleted; it comes back
    store.flush(timeout=10)
    assert store.last("interface", {"device": "old"}) is not None
    store.close()


def test_data_survives_reopening_and_readers_see_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = EmbeddedStore(path, clock=lambda: NOW)
    store.write([_iface("r1", 1, NOW - 5, 9.0)])
    reader = EmbeddedStore(path, read_only=True, clock=lambda: NOW)
    store.flush(timeout=10)
    got = reader.last("interface")
    assert got is not None and got.fields["in_bps"] == 9.0
    with pytest.raises(RuntimeError):
        reader.write([_iface("r1", 1, NOW, 1.0)])
    store.write([_iface("r1", 1, NOW - 4, 10.0)])
    store.close()  # commits what is queued
    reader.close()
    with pytest.raises(RuntimeError):
        store.write([_iface("r1", 1, NOW, 1.0)])
    again = EmbeddedStore(path, clock=lambda: NOW)
    assert [s.fields["in_bps"] for s in again.query("interface", None, 0, NOW + 1)] == [9.0, 10.0]
    again.close()


def test_a_store_written_with_the_tag_trigger_finds_old_and_new_series_by_tag(tmp_path: Path) -> None:
    path = tmp_path / "series.db"
    old = EmbeddedStore(path, clock=lambda: NOW)
    old.write([_iface("r1", 1, NOW - 60, 10.0)])
    old.close()
    with sqlite3.connect(path) as conn:  # the store as earlier versions left it: tag rows by trigger
        conn.executescript(
            "DELETE FROM series_tags; INSERT INTO series_tags (name, value, series_id) SELECT json_extract(j.value, "
            "'$[0]'), json_extract(j.value, '$[1]'), s.id FROM series s, json_each(s.tags) j;"
            "CREATE TRIGGER series_tags_of_new_series AFTER INSERT ON series BEGIN INSERT INTO series_tags "
            "(name, value, series_id) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), NEW.id "
            "FROM json_each(NEW.tags); END;")
    store = EmbeddedStore(path, clock=lambda: NOW)
    try:
        store.write([_iface("r1", 2, NOW - 30, 20.0), _iface("r2", 1, NOW - 30, 30.0), _iface("r1", 1, NOW, 11.0)])
        store.flush(timeout=10)
        assert store.series("interface", {"device": "r1"}) == [{"device": "r1", "ifindex": "1"},
                                                               {"device": "r1", "ifindex": "2"}]
        by_ifindex = store.query("interface", {"ifindex": "1"}, 0, NOW + 1)
        assert [s.fields["in_bps"] for s in by_ifindex] == [10.0, 30.0, 11.0]
        assert store.stats()["series"] == 3
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM series_tags").fetchone() == (6,)  # two tags each, none twice


def test_fields_that_cannot_be_stored_are_left_out_and_the_rest_kept(store: EmbeddedStore) -> None:
    tags = (("device", "CPE2"),)
    store.write([Sample("poll", tags, {"ok": True, "nan": math.nan, "inf": -math.inf, "huge": 2**63,
                                       "": 1, "n": 2**63 - 1, "s": "up", "f": 0.5}, NOW)])
    store.flush(timeout=10)
    got = store.last("poll", {"device": "CPE2"})
    assert got is not None and got.fields == {"f": 0.5, "n": 2**63 - 1, "ok": True, "s": "up"}


def test_non_ascii_tags_keep_the_stored_text_of_earlier_versions(tmp_path: Path) -> None:
    path = tmp_path / "series.db"
    tags = (("device", "cmts-šentvid"), ("segment", "sg-žalec-1"))
    store = EmbeddedStore(path, clock=lambda: NOW)
    try:
        store.write([Sample("segment", tags, {"in_bps": 1.0}, NOW - 60)])
        store.flush(timeout=10)
        store.write([Sample("segment", tags, {"in_bps": 2.0}, NOW)])
        store.flush(timeout=10)
        assert [s.fields["in_bps"] for s in store.query("segment", {"segment": "sg-žalec-1"}, 0, NOW + 1)] == [1.0, 2.0]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:  # one series, its tags as json.dumps wrote them (non-ASCII escaped)
        stored = conn.execute("SELECT tags FROM series").fetchall()
    assert stored == [(json.dumps(sorted(tags), separators=(",", ":")),)]


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
                for table in ("series", "series_tags", "points")}


def test_a_batch_staged_in_sql_is_stored_as_the_python_path_stores_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path (the samples' JSON taken apart in SQL) and the Python path give the same rows: tags sorted, empty
    and repeated ones dropped, unstorable fields left out, a series' points of one second merged, old and empty
    samples skipped."""
    from collectors.sinks import embedded

    batch = [
        _iface("r1", 1, NOW - 60, 1000.0),
        Sample("cm", (("device", "m1"), ("channel", "3"), ("band", ""), ("channel", "4")),
               {"snr_db": 38.5, "nan": math.nan, "inf": math.inf, "status": "operational", "up": False}, NOW),
        Sample("cm", (("channel", "4"), ("device", "m1")), {"power_dbmv": -1.5}, NOW),  # same series and second
        Sample("cm", (("device", "m1"), ("channel", "4")), {"power_dbmv": 2.0}, NOW - 300),
        Sample("poll", (("device", "m1"),), {"duration_s": 0.02, "ok": True, "n": 2**53 - 1}, NOW),
        Sample("poll", (), {"nan": math.nan}, NOW),  # nothing storable
        Sample("", (("device", "m1"),), {"x": 1}, NOW),  # no measurement
        Sample("poll", (("device", "m2"),), {"x": 1}, NOW - 8 * 86400),  # beyond the retention
        Sample("wifi", (("device", "m1"), ("ssid", 'a"b\\c')), {"name": "x\ty"}, NOW),
    ]
    odd = Sample("wifi", (("device", "m2"),), {"name": "y", "list": [1]}, NOW)  # type: ignore[dict-item]
    assert embedded._sample_payload(batch) is not None
    counters = []
    for name, payload in (("sql", embedded._sample_payload), ("python", lambda _batch: None)):
        monkeypatch.setattr(embedded, "_sample_payload", payload)
        store = EmbeddedStore(tmp_path / f"{name}.db", clock=lambda: NOW)
        try:
            store.write(batch)
            store.flush(timeout=10)
            store.write([odd])  # staged in SQL, found to hold a list: prepared in Python instead
            store.flush(timeout=10)
            counters.append({k: store.stats()[k] for k in ("points_written_total", "samples_skipped_total")})
        finally:
            store.close()
    sql, python = _tables(tmp_path / "sql.db"), _tables(tmp_path / "python.db")
    assert sql == python
    assert counters[0] == counters[1] == {"points_written_total": 7, "samples_skipped_total": 3}
    assert ("cm", '[["channel","4"],["device","m1"]]') in [row[1:] for row in sql["series"]]
    assert json.loads(sql["points"][-1][2]) == {"name": "y"}
    merged = [json.loads(fields) for _, time, fields in sql["points"] if time == NOW and "power_dbmv" in fields]
    assert merged == [{"power_dbmv": -1.5, "snr_db": 38.5, "status": "operational", "up": False}]
