"""The API as an attacker and a careless client use it (issue 9): validation that names the field and never
logs a value, limits, out-of-range numbers, wildcards and NUL, reads that take no write lock, private files."""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from collectors.sinks.embedded import EmbeddedStore
from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.audit.service import search_term
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Package, Segment
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from tests.foundation.helpers import SMALL_INVENTORY, VALID_TAX
from tests.support.api import auth, role_tokens

SECRETS = ("s3cret-community", "authpass123", "privpass123", "12345678", VALID_TAX, "janez.novak@example.si",
           "+386 41 123 456")
"""Values of the test data that no log line may carry."""


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with db.session() as s:
        box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
        import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), InventoryWriter(s, SYSTEM, box, EventBus()))
    with TestClient(create_app(settings, db, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    return auth(role_tokens(db)["admin"])


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log line at every level; after the test, none may carry a secret or personal value."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    text = caplog.text + "".join(str(r.args) + str(r.exc_info) for r in caplog.records)
    for value in SECRETS:
        assert value not in text


def ids(client: TestClient, headers: dict[str, str], plural: str) -> dict[str, int]:
    items = client.get(f"/api/v1/{plural}", headers=headers).json()["items"]
    return {i.get("number") or i.get("code") or i["name"]: i["id"] for i in items}


def test_patch_is_validated_as_a_whole_naming_the_field_never_logging_values(
        client: TestClient, admin: dict[str, str], logged: pytest.LogCaptureFixture) -> None:
    creds = ids(client, admin, "credentials")
    answer = client.patch(f"/api/v1/credentials/{creds['lab-v2c']}", json={"version": "v3"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "community"
    answer = client.patch(f"/api/v1/credentials/{creds['lab-v3']}", json={"version": "v2c"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "community"
    subscribers = ids(client, admin, "subscribers")
    answer = client.patch(f"/api/v1/subscribers/{subscribers['S-2']}", json={"tax_number": "12345678"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "tax_number"
    for body in (answer.text,):
        assert "12345678" not in body
    ok = client.patch(f"/api/v1/subscribers/{subscribers['S-2']}", json={"tax_number": VALID_TAX}, headers=admin)
    assert ok.status_code == 200


def test_an_unexpected_error_is_a_500_without_values_in_the_log(
        settings: Settings, db: Database, logged: pytest.LogCaptureFixture) -> None:
    app = create_app(settings, db, scheduler=False)

    def boom() -> None:
        raise ValueError("tax number 12345678 of janez.novak@example.si")

    app.add_api_route("/boom", boom)
    with TestClient(app) as client:  # raises if the error escaped the app (the server would drop the connection)
        answer = client.get("/boom")
        assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal"
        assert client.get("/api/v1/health").status_code == 200
    assert "ValueError" in logged.text and "boom" in logged.text


def test_validation_and_storage_agree_and_a_failed_write_stores_nothing(
        client: TestClient, admin: dict[str, str], db: Database) -> None:
    body = {"code": "p-tiny", "name": "t", "download_mbps": 0.0001, "upload_mbps": 10}
    answer = client.post("/api/v1/packages", json=body, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "download_mbps"
    smallest = client.post("/api/v1/packages", json={**body, "download_mbps": 0.01}, headers=admin)
    assert smallest.status_code == 201 and smallest.json()["min_download_mbps"] == pytest.approx(0.005)
    assert client.get("/api/v1/packages", headers=admin).status_code == 200
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package).where(Package.code == "p-tiny")) == 1


@pytest.mark.parametrize("path", ["/api/v1/subscribers?offset=9223372036854775808",
                                  "/api/v1/subscribers/9223372036854775808",
                                  "/api/v1/packages/99999999999999999999999",
                                  "/api/v1/complaints/9223372036854775808",
                                  "/api/v1/maintenance/windows/9223372036854775808",
                                  "/api/v1/tickets/9223372036854775808",
                                  "/api/v1/audit?offset=9223372036854775808"])
def test_integers_out_of_range_are_422_naming_the_parameter(client: TestClient, admin: dict[str, str],
                                                           path: str) -> None:
    answer = client.get(path, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] in ("offset", "item_id", "case_id", "window_id", "ticket_id")


def test_search_takes_wildcards_literally_and_refuses_nul(client: TestClient, admin: dict[str, str]) -> None:
    for term in ("%", "_", "%%", "\\"):
        assert client.get("/api/v1/subscribers", params={"q": term}, headers=admin).json()["items"] == []
    assert [i["number"] for i in client.get("/api/v1/subscribers", params={"q": "novak"},
                                            headers=admin).json()["items"]] == ["S-1"]
    answer = client.get("/api/v1/subscribers", params={"q": "\x00"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "q"
    answer = client.get("/api/v1/subscribers", params={"q": "x" * 50_001}, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "q"
    body = {"code": "p-nul", "name": "a\x00b", "download_mbps": 10, "upload_mbps": 1}
    answer = client.post("/api/v1/packages", json=body, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "name"
    members = {"name": "sg-nul", "kind": "access", "members": [{"device": "cmts-1", "direction": "down",
                                                               "if_name": "a\x00"}]}
    answer = client.post("/api/v1/segments", json=members, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "members.0.if_name"


def test_limits_on_body_lists_and_strings(settings: Settings, db: Database, admin: dict[str, str]) -> None:
    small = settings.model_copy(update={"api_max_body_bytes": 100_000})
    with TestClient(create_app(small, db, scheduler=False)) as client:
        huge = b'{"name": "' + b"x" * 200_000 + b'"}'
        # refused by its length before anything else, authentication included
        answer = client.post("/api/v1/segments", content=huge, headers={"Content-Type": "application/json"})
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:
            yield huge[:50_000]
            yield huge[50_000:]

        json_type = {"Content-Type": "application/json"}
        answer = client.post("/api/v1/segments", content=chunks(), headers={**admin, **json_type})
        assert answer.status_code == 413
    with TestClient(create_app(settings, db, scheduler=False)) as client:
        members = [{"device": "cmts-1", "direction": "down", "if_index": i} for i in range(1, 10_002)]
        segment = {"name": "sg-big", "kind": "access", "members": members}
        answer = client.post("/api/v1/segments", json=segment, headers=admin)
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "members"
        credential = {"name": "big", "version": "v2c", "community": "c" * 1000}
        answer = client.post("/api/v1/credentials", json=credential, headers=admin)
        assert answer.status_code == 422 and answer.json()["error"]["field"] == "community"
    with db.session() as s:
        assert s.scalar(sa.select(Segment.id).where(Segment.name == "sg-big")) is None


def test_guessing_tokens_is_slowed_down(settings: Settings, db: Database) -> None:
    strict = settings.model_copy(update={"api_auth_failures_per_min": 3})
    with TestClient(create_app(strict, db, scheduler=False)) as client:
        for _ in range(3):
            assert client.get("/api/v1/packages", headers=auth("noc_guess")).status_code == 401
        answer = client.get("/api/v1/packages", headers=auth("noc_guess"))
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0


def test_smaller_defects(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.delete("/api/v1/packages", headers=admin)
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
    json_type = {"Content-Type": "application/json"}
    answer = client.post("/api/v1/packages", content=b'{"code": ', headers={**admin, **json_type})
    assert answer.status_code == 422 and answer.json()["error"]["field"] is None
    contract = {"subscriber": "S-2", "package": "cable-100", "start_date": 0}
    answer = client.post("/api/v1/contracts", json=contract, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "start_date"


def test_reads_take_no_write_lock(settings: Settings, client: TestClient, db: Database,
                                  admin: dict[str, str]) -> None:
    """A writer holding SQLite's lock (a long import) delays no read, no authentication and no health check."""
    if not db.url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    holder = sqlite3.connect(db.url.removeprefix("sqlite:///"), timeout=1)
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert client.get("/api/v1/health").json()["database"] == "ok"
        for path in ("/api/v1/packages", "/api/v1/devices", "/api/v1/segments", "/api/v1/capacity/now",
                     "/api/v1/tickets", "/api/v1/maintenance/windows"):
            # the token's first use: its last_used_at write is due, and must not hold the answer up
            assert client.get(path, headers=admin).status_code == 200, path
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_data_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    db = Database(f"sqlite:///{data / 'noc.db'}")
    with db.session() as s:
        s.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    with db.engine.connect() as conn:  # keeps the WAL open
        conn.execute(sa.text("SELECT 1"))
        files = [data / "noc.db", data / "noc.db-wal", data / "noc.db-shm"]
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    db.dispose()


def test_audit_keeps_search_terms_as_keyed_hashes_and_audits_contract_reads(
        client: TestClient, admin: dict[str, str], db: Database) -> None:
    found = client.get("/api/v1/subscribers", params={"q": "janez.novak@example.si"}, headers=admin).json()
    assert [i["number"] for i in found["items"]] == ["S-1"]
    assert client.get("/api/v1/contracts", headers=admin).status_code == 200
    with db.session() as s:
        entries = list(s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))
        term = search_term(s, "janez.novak@example.si")
    reads = [e for e in entries if e.action == "subscriber.read"]
    assert reads and json.loads(reads[-1].details)["filters"] == {"q": term}
    assert not any("novak@" in e.details or "novak@" in e.object_id for e in entries)
    assert any(e.action == "contract.read" for e in entries)


def test_series_store_files_are_private(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "data" / "series.db")
    try:
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        for name in ("series.db", "series.db-wal"):
            assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    finally:
        store.close()
