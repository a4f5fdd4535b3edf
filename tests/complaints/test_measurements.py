"""Measurements in: one by one, CSV and JSON files over HTTP, and `noc measurements import` — all or nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.audit.models import AuditEntry
from noc.complaints.measurements import CHUNK
from noc.complaints.models import Measurement
from noc.core.db import Database
from noc.core.settings import Settings
from tests.complaints.conftest import campaign_days, csv_bytes, local, rmbt_id, rows


def count(db: Database) -> int:
    with db.read_session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Measurement)) or 0


def five() -> list[dict[str, str]]:
    return rows([(local(d, "10:00"), 95.0, 9.5) for d in campaign_days()])


def test_csv_import_keeps_every_row_and_the_files_hash(client: TestClient, handler: dict[str, str],
                                                        net: Database) -> None:
    content = csv_bytes(five())
    answer = client.post("/api/v1/measurements/import", files={"file": ("akos.csv", content, "text/csv")},
                         headers=handler)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"file": "akos.csv", "sha256": hashlib.sha256(content).hexdigest(), "imported": 5}
    with net.read_session() as s:
        stored = list(s.scalars(sa.select(Measurement).order_by(Measurement.time_utc)))
        assert {m.source_sha256 for m in stored} == {hashlib.sha256(content).hexdigest()}
        assert [(m.download_kbit, m.upload_kbit, m.medium) for m in stored] == [(95000, 9500, "lan")] * 5
        assert stored[0].open_test_uuid == rmbt_id(1) and stored[0].server_name == "AKOS Test Net Ljubljana"
        audit = s.scalar(sa.select(AuditEntry).where(AuditEntry.action == "measurements.import"))
        assert audit is not None and json.loads(audit.details)["rows"] == 5
    listed = client.get("/api/v1/measurements?subscriber=S-1", headers=handler).json()
    assert listed["total"] == 5 and listed["items"][0]["open_test_uuid"] == rmbt_id(5)


def test_one_bad_row_writes_nothing_and_names_row_and_field(client: TestClient, handler: dict[str, str],
                                                            net: Database) -> None:
    records = five()
    records[3]["download_kbit"] = "fast"
    answer = client.post("/api/v1/measurements/import", files={"file": ("akos.csv", csv_bytes(records))},
                         headers=handler)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"]["field"] == "download_kbit"
    assert "akos.csv line 5" in body["error"]["message"] and "nothing was written" in body["error"]["message"]
    assert body["errors"] == [{"row": "akos.csv line 5", "field": "download_kbit", "message": "'fast' is not a number"}]
    assert count(net) == 0


def test_every_bad_row_is_named(client: TestClient, handler: dict[str, str], net: Database) -> None:
    records = five()
    records[0]["time_utc"] = "yesterday"
    records[1]["subscriber"] = "S-999"
    records[2]["network_type"] = "CARRIER-PIGEON"
    records[4]["open_test_uuid"] = records[3]["open_test_uuid"]
    body = client.post("/api/v1/measurements/import", files={"file": ("x.csv", csv_bytes(records))},
                       headers=handler).json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        ("x.csv line 2", "time_utc"), ("x.csv line 3", "subscriber"), ("x.csv line 4", "network_type"),
        ("x.csv line 6", "open_test_uuid")]
    assert "appears twice (first at x.csv line 5)" in body["errors"][3]["message"]
    assert count(net) == 0


def test_a_repeated_test_id_is_refused_naming_it(client: TestClient, handler: dict[str, str], net: Database) -> None:
    first = client.post("/api/v1/measurements/import", files={"file": ("a.csv", csv_bytes(five()))}, headers=handler)
    assert first.status_code == 201
    again = rows([(local(campaign_days()[0], "12:00"), 50.0, 5.0)], first=6) + five()[:1]
    answer = client.post("/api/v1/measurements/import", files={"file": ("b.csv", csv_bytes(again))}, headers=handler)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"row": "b.csv line 3", "field": "open_test_uuid",
                                        "message": f"test {rmbt_id(1)} was imported before"}]
    assert count(net) == 5


def test_json_import_and_unknown_columns_ignored(client: TestClient, handler: dict[str, str], net: Database) -> None:
    document = {"results": [{**r, "network_type": None, "cat_technology": "WLAN", "model": "iPhone"}
                            for r in five()]}
    answer = client.post("/api/v1/measurements/import",
                         files={"file": ("export.json", json.dumps(document).encode(), "application/json")},
                         headers=handler)
    assert answer.status_code == 201, answer.text
    with net.read_session() as s:
        assert set(s.scalars(sa.select(Measurement.medium))) == {"wlan"}
    broken = client.post("/api/v1/measurements/import", files={"file": ("x.json", b"[{]")}, headers=handler)
    assert broken.status_code == 422 and broken.json()["error"]["field"] == "file"


def test_one_by_one(client: TestClient, handler: dict[str, str], tokens: dict[str, str], net: Database) -> None:
    record = {**five()[0], "download_kbit": 95000, "upload_kbit": 9500, "ping_ms": 12.5}
    del record["lat"], record["long"], record["jitter_ms"]
    answer = client.post("/api/v1/measurements", json=record, headers=handler)
    assert answer.status_code == 201, answer.text
    assert answer.json()["subscriber"] == "S-1" and answer.json()["download_kbit"] == 95000
    assert len(answer.json()["source_sha256"]) == 64
    repeated = client.post("/api/v1/measurements", json=record, headers=handler)
    assert repeated.status_code == 422 and repeated.json()["error"]["field"] == "open_test_uuid"
    negative = client.post("/api/v1/measurements", json={**record, "open_test_uuid": rmbt_id(99),
                                                         "upload_kbit": -1}, headers=handler)
    assert negative.status_code == 422 and negative.json()["error"]["field"] == "upload_kbit"
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert client.post("/api/v1/measurements", json=record, headers=viewer).status_code == 403
    assert count(net) == 1


def run_noc(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NOC_DATABASE_URL": settings.resolved_database_url(),
           "NOC_SECRET_KEY": "test-secret-key-0123456789", "NOC_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "noc", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_cli_import_one_line_per_error_exit_1_nothing_written(settings: Settings, net: Database,
                                                               tmp_path: Path) -> None:
    records = five()
    records[1]["ping_ms"] = "-3"
    records[2]["upload_kbit"] = ""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(records))
    done = run_noc(settings, "measurements", "import", str(bad))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == ["bad.csv line 3: field 'ping_ms': -3 is outside 0 .. 600000",
                     "bad.csv line 4: field 'upload_kbit': required",
                     "error: 2 bad row(s) in bad.csv; nothing was written"]
    assert "Traceback" not in done.stderr and count(net) == 0
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(five()))
    done = run_noc(settings, "measurements", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "imported 5 measurements" in done.stdout and count(net) == 5
    missing = run_noc(settings, "measurements", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read")


def test_a_bad_row_after_rows_already_sent_still_leaves_nothing(client: TestClient, handler: dict[str, str],
                                                                net: Database) -> None:
    """More rows than one chunk: the first chunk is on its way to the database when a later row turns out bad."""
    start = local(campaign_days()[0], "00:00")
    many = rows([(start + timedelta(seconds=7 * i), 90.0, 9.0) for i in range(CHUNK + 3)])
    many[CHUNK + 1]["ping_ms"] = "n/a"
    answer = client.post("/api/v1/measurements/import", files={"file": ("big.csv", csv_bytes(many))}, headers=handler)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"row": f"big.csv line {CHUNK + 3}", "field": "ping_ms",
                                        "message": "'n/a' is not a number"}]
    assert count(net) == 0
    first = client.post("/api/v1/measurements/import", files={"file": ("one.csv", csv_bytes(many[CHUNK + 2:]))},
                        headers=handler)
    assert first.status_code == 201
    many[CHUNK + 1]["ping_ms"] = "11"
    again = client.post("/api/v1/measurements/import", files={"file": ("big.csv", csv_bytes(many))}, headers=handler)
    assert again.status_code == 422  # the last row was stored before: the database refuses the load at its end
    assert again.json()["errors"] == [{"row": f"big.csv line {CHUNK + 4}", "field": "open_test_uuid",
                                       "message": f"test {many[-1]['open_test_uuid']} was imported before"}]
    assert count(net) == 1
    done = client.post("/api/v1/measurements/import", files={"file": ("big.csv", csv_bytes(many[:-1]))},
                       headers=handler)
    assert done.status_code == 201 and done.json()["imported"] == CHUNK + 2 and count(net) == CHUNK + 3
