"""A database with a row in every table the Grafana views read, and personal data in every place it can be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from noc.auth.models import User
from noc.capacity.models import SegmentLatest, SegmentRollup, TicketEvidence, UpgradeTicket
from noc.core.db import Database
from noc.inventory.models import Contract, Cpe, Device, Package, Segment, SegmentMember, Subscriber
from noc.maintenance.models import MaintenanceWindow
from noc.migrations import GRAFANA_READER, set_reader_password
from noc.outbox.models import OutboxMessage
from noc.polling.models import CpeHealth, PollStatus

PERSONAL = {
    "name": "Marija Novak-Zupančič",
    "email": "marija.zupancic@example.si",
    "phone": "+38640111222",
    "tax_number": "SI98765432",
    "username": "mzupancic77",
    "number": "NAR-0042-777",
    "user": "engineer-ana-kovac",
}
"""Values that must never show in a view: a subscriber's personal data and a user's name."""

SERIAL, MAC = "CM-TEST-0001", "aa:bb:cc:00:11:22"
NOW = datetime.now(UTC).replace(microsecond=0)
PG_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
"""For tests of what Grafana does on PostgreSQL (the read-only role exists there only)."""


@pytest.fixture
def filled(db: Database) -> Database:
    """Inventory, polling, capacity, maintenance and outbox rows; personal data wherever a column allows it."""
    p = PERSONAL
    with db.session() as s:
        package = Package(code="fiber-500", name="Fiber 500", download_mbps=500, upload_mbps=100,
                          normal_download_mbps=400, normal_upload_mbps=80, min_download_mbps=250, min_upload_mbps=50)
        subscriber = Subscriber(number=p["number"], username=p["username"], name=p["name"], phone=p["phone"],
                                email=p["email"], tax_number=p["tax_number"])
        s.add_all([package, subscriber, User(name=p["user"], role="noc_engineer")])
        s.flush()
        s.add(Contract(subscriber_id=subscriber.id, package_id=package.id, start_date=date(2025, 1, 1)))
        core = Segment(name="core-lj", kind="core", capacity_down_mbps=10000, capacity_up_mbps=10000)
        intl = Segment(name="intl-vie", kind="international", capacity_down_mbps=20000, capacity_up_mbps=20000)
        s.add_all([core, intl])
        s.flush()
        access = Segment(name="sg-test-1", kind="access", parent_id=core.id, capacity_down_mbps=1000,
                         capacity_up_mbps=200, description=f"node at {p['name']}'s house")
        device = Device(name="cmts-test", kind="cmts", address="127.0.0.1", port=16100)
        s.add_all([access, device])
        s.flush()
        s.add(SegmentMember(segment_id=access.id, device_id=device.id, direction="down", counter="out", if_index=1))
        cpe = Cpe(serial=SERIAL, mac=MAC, model="TC4400", address="127.0.0.2", subscriber_id=subscriber.id,
                  segment_id=access.id)
        s.add(cpe)
        s.flush()
        s.add_all([
            PollStatus(target_kind="device", target_id=device.id, at=NOW, ok=True, duration_s=0.12,
                       consecutive_failures=0, last_ok_at=NOW),
            PollStatus(target_kind="cpe", target_id=cpe.id, at=NOW, ok=False, duration_s=2.0, error="timeout",
                       consecutive_failures=3, last_ok_at=NOW - timedelta(hours=1)),
            CpeHealth(cpe_id=cpe.id, at=NOW, grade="marginal",
                      findings=json.dumps([{"field": "snr_db", "value": 31.5, "grade": "marginal"}])),
        ])
        for seg in (access, core, intl):
            for direction in ("down", "up"):
                s.add(SegmentLatest(segment_id=seg.id, direction=direction, at=NOW, utilization=0.72,
                                    bps=720e6, capacity_bps=1e9))
        # 30 days of 5-minute rollups between 18:00 and 24:00 UTC (the busy hours in any European zone),
        # climbing a little every day: a busy-hour p95 per day and a trend for the forecast.
        first = (NOW - timedelta(days=30)).replace(hour=18, minute=0, second=0)
        starts = [first + timedelta(days=day, minutes=5 * i) for day in range(31) for i in range(72)]
        s.execute(sa.insert(SegmentRollup), [
            {"segment_id": seg.id, "direction": "down", "start": start, "seconds": 300, "mean": mean,
             "max": mean + 0.05, "p95": mean + 0.03, "mean_bps": mean * 1e9, "capacity_bps": 1e9, "points": 5}
            for start in starts if start <= NOW
            for mean in [0.35 + 0.01 * (start - first).days + 0.002 * (start.minute // 5)]
            for seg in (access, core, intl)])
        sustained = UpgradeTicket(segment_id=access.id, direction="down", rule="sustained", state="open",
                                  priority="high", detail="3 rollups >= 70 %", threshold=0.7, first_value=0.72,
                                  latest_peak=0.78, last_breach_at=NOW - timedelta(hours=2),
                                  opened_at=NOW - timedelta(days=2), note=f"called {p['name']} at {p['phone']}")
        forecast = UpgradeTicket(segment_id=access.id, direction="down", rule="forecast", state="acknowledged",
                                 priority="planning", detail="trend reaches 70 %", threshold=0.7, first_value=0.66,
                                 latest_peak=0.75, last_breach_at=NOW - timedelta(hours=1),
                                 predicted_date=NOW.date() + timedelta(days=12), opened_at=NOW - timedelta(days=1))
        closed = UpgradeTicket(segment_id=core.id, direction="up", rule="busy_hour_p95", state="resolved",
                               priority="high", threshold=0.7, first_value=0.71, latest_peak=0.74,
                               last_breach_at=NOW - timedelta(days=9), opened_at=NOW - timedelta(days=10),
                               closed_at=NOW - timedelta(days=3), new_capacity_mbps=20000,
                               note=f"approved by {p['user']}")
        s.add_all([sustained, forecast, closed])
        s.flush()
        s.add(TicketEvidence(ticket_id=sustained.id, start=NOW - timedelta(hours=3), seconds=300, mean=0.72,
                             max=0.78, p95=0.75, capacity_bps=1e9))
        planned = MaintenanceWindow(kind="planned", title="Node split sg-test-1", reason=f"asked by {p['name']}",
                                    impact="outage", description_sl=f"Pokličite {p['phone']}",
                                    description_en=f"Write to {p['email']}", starts_at=NOW + timedelta(days=3),
                                    ends_at=NOW + timedelta(days=3, hours=4), created_by=p["user"])
        outage = MaintenanceWindow(kind="outage", title="Fibre cut core-lj", reason="digger", impact="degraded",
                                   starts_at=NOW - timedelta(hours=1), ends_at=None, created_by=p["user"])
        past = MaintenanceWindow(kind="planned", title="Old works", starts_at=NOW - timedelta(days=5),
                                 ends_at=NOW - timedelta(days=5) + timedelta(hours=2), created_by=p["user"])
        planned.segments = [access]
        outage.segments = [core, access]
        past.segments = [intl]
        s.add_all([planned, outage, past])
        for i, (channel, state) in enumerate([("email", "dead"), ("email", "sent"), ("webhook", "dead"),
                                              ("webhook", "pending")]):
            s.add(OutboxMessage(channel=channel, destination=p["email"] if channel == "email" else "https://t/x",
                                payload=json.dumps({"to": p["email"], "name": p["name"]}),
                                idempotency_key=f"k{i}", topic="notice:1" if channel == "email" else "ticket",
                                state=state, attempts=3, last_error=f"550 {p['email']} unknown",
                                created_at=NOW - timedelta(hours=2), next_attempt_at=NOW))
    return db


@pytest.fixture
def reader(filled: Database) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the read-only role, with a password `noc db upgrade` gave it, in the test's schema."""
    password = "reader 'secret' :x %s"
    assert set_reader_password(filled, password)
    with filled.engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    url = filled.engine.url
    info = psycopg.conninfo.make_conninfo(host=url.host, port=url.port, dbname=url.database, user=GRAFANA_READER,
                                          password=password, options=f"-csearch_path={schema}")
    with psycopg.connect(info, autocommit=True) as connection:
        yield connection
