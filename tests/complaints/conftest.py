"""Fixtures of the complaint tests: a subscriber on an access segment with a package, an API client, tokens, and
builders of RMBT measurement files."""

from __future__ import annotations

import copy
import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.auth.service import add_user, issue_token
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM, Role
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Segment, Subscriber
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter

LJ = ZoneInfo("Europe/Ljubljana")
TAX = "28159080"
INVENTORY: dict[str, list[dict[str, Any]]] = {
    "credentials": [{"name": "lab", "version": "v2c", "community": "public"}],
    "packages": [{"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10}],
    "subscribers": [{"number": "S-1", "username": "jnovak", "name": "Janez Novak Žagar", "tax_number": TAX},
                    {"number": "S-2", "username": "mhorvat", "name": "Maja Horvat"}],
    "contracts": [{"subscriber": "S-1", "package": "cable-100", "start_date": "2024-01-01"},
                  {"subscriber": "S-2", "package": "cable-100", "start_date": "2024-01-01"}],
    "segments": [{"name": "agg-1", "kind": "aggregation"},
                 {"name": "sg-1", "kind": "access", "parent": "agg-1", "capacity_down_mbps": 1000,
                  "capacity_up_mbps": 100}],
    "cpes": [{"serial": "CM0001", "mac": "AA-BB-CC-00-00-01", "model": "TC4400", "subscriber": "S-1",
              "segment": "sg-1", "credential": "lab", "address": "127.0.0.1", "port": 9}],
}
HEADER = ["open_test_uuid", "time_utc", "download_kbit", "upload_kbit", "ping_ms", "jitter_ms", "network_type",
          "server_name", "subscriber", "lat", "long"]


@pytest.fixture
def net(db: Database, rt: Runtime) -> Database:
    with db.session() as s:
        import_rows(document_rows("t", copy.deepcopy(INVENTORY)),
                    InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE), rt.events))
    return db


@pytest.fixture
def client(settings: Settings, net: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, net, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def tokens(net: Database) -> dict[str, str]:
    with net.session() as s:
        return {r.value: issue_token(s, add_user(s, f"u-{r.value}", r, SYSTEM), SYSTEM) for r in Role}


@pytest.fixture
def handler(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['complaint_handler']}"}


def ids(db: Database) -> dict[str, int]:
    """Database ids of S-1 and sg-1."""
    with db.read_session() as s:
        return {"S-1": s.scalar(sa.select(Subscriber.id).where(Subscriber.number == "S-1")) or 0,
                "sg-1": s.scalar(sa.select(Segment.id).where(Segment.name == "sg-1")) or 0}


def rmbt_id(n: int) -> str:
    return f"O{uuid.UUID(int=n, version=4)}"


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), LJ)


def rows(spec: Sequence[tuple[datetime, float, float] | tuple[datetime, float, float, str]], first: int = 1,
         subscriber: str = "S-1") -> list[dict[str, Any]]:
    """RMBT records: (time, download Mbit/s, upload Mbit/s[, network type]) each."""
    out = []
    for n, (at, down, up, *medium) in enumerate(spec, start=first):
        out.append({"open_test_uuid": rmbt_id(n), "time_utc": at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    "download_kbit": str(round(down * 1000)), "upload_kbit": str(round(up * 1000)),
                    "ping_ms": "12.5", "jitter_ms": "1.2", "network_type": medium[0] if medium else "LAN",
                    "server_name": "AKOS Test Net Ljubljana", "subscriber": subscriber, "lat": "46.05",
                    "long": "14.5"})
    return out


def csv_bytes(records: list[dict[str, Any]], header: Sequence[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()


def campaign_days(today: date | None = None) -> list[date]:
    """Five consecutive local days ending three days ago (always in the past)."""
    end = (today or datetime.now(LJ).date()) - timedelta(days=3)
    return [end - timedelta(days=4 - k) for k in range(5)]
