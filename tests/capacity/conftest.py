"""Fixtures of the capacity tests: a small segment tree and rollups stored straight into the database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from noc.capacity.models import SegmentRollup
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM, Actor
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Segment
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter

ENGINEER = Actor("eng", "noc_engineer")
_NOW = datetime.now(UTC)
T0 = _NOW.replace(minute=_NOW.minute - _NOW.minute % 5, second=0, microsecond=0) - timedelta(minutes=30)
"""Rollups start half an hour ago, so tickets closed "now" have later rollups to re-arm them."""
NETWORK = {
    "segments": [
        {"name": "agg-1", "kind": "aggregation"},
        {"name": "sg-1", "kind": "access", "parent": "agg-1", "capacity_down_mbps": 1000},
        {"name": "sg-2", "kind": "access", "parent": "agg-1"},
    ]
}


@pytest.fixture
def net(db: Database, rt: Runtime) -> Database:
    with db.session() as s:
        import_rows(document_rows("t", copy.deepcopy(NETWORK)),
                    InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE), rt.events))
    return db


def segment_id(db: Database, name: str) -> int:
    with db.session() as s:
        return int(s.scalar(sa.select(Segment.id).where(Segment.name == name)))  # type: ignore[arg-type]


def add_rollups(db: Database, name: str, shares: list[float], start: datetime = T0, direction: str = "down",
                period: int = 300) -> datetime:
    """Store consecutive rollups with the given mean shares; returns the end of the last one."""
    sid = segment_id(db, name)
    with db.session() as s:
        for i, share in enumerate(shares):
            s.add(SegmentRollup(segment_id=sid, direction=direction, start=start + timedelta(seconds=i * period),
                                seconds=period, mean=share, max=min(1.0, share + 0.05), p95=min(1.0, share + 0.03),
                                mean_bps=share * 1e9, capacity_bps=1e9, points=5))
    return start + timedelta(seconds=len(shares) * period)
