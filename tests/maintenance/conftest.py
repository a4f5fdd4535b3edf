"""Fixtures of the notice tests: a small network with subscribers, a real SMTP server, the API, and helpers that
run the notice jobs as the worker would."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Subscriber
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.maintenance.jobs import mail_dispatcher
from noc.maintenance.notices import plan_due, queue_notices
from noc.maintenance.service import NoticePolicy
from noc.outbox.models import OutboxMessage
from noc.outbox.service import DispatchReport
from tests.support.api import role_tokens
from tests.support.smtp import MailServer, mail_server

MAIL_FROM = "Kabel d.o.o. <obvestila@kabel.example>"
PUBLIC_URL = "https://noc.kabel.example"


def subscriber(n: int, segment: str, **extra: Any) -> dict[str, Any]:
    """Rows of one subscriber with a contract and a CPE on ``segment`` (``contract_end``, ``language``,
    ``email``, ``notification_opt_outs`` override)."""
    end = extra.pop("contract_end", None)
    row = {"number": f"S-{n}", "username": f"user{n}", "name": f"Naročnik {n}", "email": f"user{n}@example.si",
           "language": "sl", **extra}
    return {"subscriber": row,
            "contract": {"subscriber": row["number"], "package": "cable-100", "start_date": "2020-01-01",
                         "end_date": end},
            "cpe": {"serial": f"CPE{n:05d}", "mac": f"02:00:00:00:{n >> 8:02x}:{n & 0xFF:02x}", "model": "TC4400",
                    "subscriber": row["number"], "segment": segment}}


PEOPLE = [
    subscriber(1, "sg-1"),
    subscriber(2, "sg-1", language="en"),
    subscriber(3, "sg-1"),
    subscriber(4, "sg-1", notification_opt_outs=["maintenance"]),
    subscriber(5, "sg-1", email=None),
    subscriber(6, "sg-1", contract_end="2021-01-01"),
    subscriber(7, "sg-2"),
    subscriber(8, "sg-2", language="en"),
]
"""On sg-1: three to notify (one in English), one opted out, one without e-mail, one without a running contract;
two on sg-2. Both access segments hang under agg-1."""


def network_document(people: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The import document of the test network with ``people``."""
    return {
        "packages": [{"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10}],
        "segments": [{"name": "agg-1", "kind": "aggregation"},
                     {"name": "sg-1", "kind": "access", "parent": "agg-1"},
                     {"name": "sg-2", "kind": "access", "parent": "agg-1"}],
        "subscribers": [copy.deepcopy(p["subscriber"]) for p in people],
        "contracts": [copy.deepcopy(p["contract"]) for p in people],
        "cpes": [copy.deepcopy(p["cpe"]) for p in people],
    }


def load_network(rt: Runtime, people: list[dict[str, Any]]) -> None:
    """Import the test network through the inventory's importer."""
    with rt.db.session() as s:
        import_rows(document_rows("t", network_document(people)),
                    InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE), rt.events))


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp: MailServer) -> Settings:
    """The shared settings plus mail to the test's SMTP server."""
    return Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret-key-0123456789",
                    smtp_host=smtp.host, smtp_port=smtp.port, smtp_timeout_s=5, mail_from=MAIL_FROM,
                    public_url=PUBLIC_URL, mail_rate_per_s=1000)


@pytest.fixture
def net(db: Database, rt: Runtime) -> Database:
    load_network(rt, PEOPLE)
    return db


@pytest.fixture
def client(settings: Settings, net: Database, rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(settings, scheduler=False, rt=rt)) as test_client:
        yield test_client


@pytest.fixture
def tokens(net: Database) -> dict[str, str]:
    return role_tokens(net)


def deliver(rt: Runtime, now: datetime | None = None) -> DispatchReport:
    """What the worker's notice and mail jobs do, until no mail is due: plan, queue, send."""
    policy = NoticePolicy.from_settings(rt.settings)
    plan_due(rt.db, policy, now)
    queue_notices(rt.db, policy, now=now)
    dispatcher = mail_dispatcher(rt)
    assert dispatcher is not None
    total = DispatchReport()
    while (report := dispatcher.run_once(max(now or utcnow(), utcnow()))) != DispatchReport():
        for name in ("sent", "retried", "dead", "withdrawn"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
    return total


def subscriber_id(db: Database, number: str) -> int:
    with db.session() as s:
        return int(s.scalar(sa.select(Subscriber.id).where(Subscriber.number == number)))  # type: ignore[arg-type]


def outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def planned(days: float = 3, hours: float = 3, **extra: Any) -> dict[str, Any]:
    """The body of a window on sg-1 starting ``days`` from now."""
    start = (utcnow() + timedelta(days=days)).replace(microsecond=0)
    return {"title": "Node split Ljubljana", "reason": "capacity", "segments": ["sg-1"],
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat(),
            "description_sl": "Zamenjali bomo ojačevalnik.", "description_en": "We will replace an amplifier.",
            **extra}
