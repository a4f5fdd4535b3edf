"""The context a live reading carries: the access segment's utilization now, its active upgrade tickets, and
maintenance covering it now or soon (on the segment or above it)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from noc.capacity.models import SegmentLatest, UpgradeTicket
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.inventory.models import Segment
from noc.live.service import context
from noc.maintenance.service import OutageIn, WindowIn, create_window, declare_outage


def test_context_names_utilization_tickets_and_maintenance(net: Database) -> None:
    now = utcnow()
    with net.session() as s:
        segment = s.scalars(sa.select(Segment).where(Segment.name == "sg-1")).one()
        s.add(SegmentLatest(segment_id=segment.id, direction="down", at=now, utilization=0.734, bps=734e6,
                            capacity_bps=1e9))
        s.add(UpgradeTicket(segment_id=segment.id, direction="down", rule="sustained", state="open",
                            priority="normal", threshold=0.7, first_value=0.72, latest_peak=0.78,
                            last_breach_at=now))
        s.add(UpgradeTicket(segment_id=segment.id, direction="up", rule="sustained", state="resolved",
                            priority="normal", threshold=0.7, first_value=0.72, latest_peak=0.78,
                            last_breach_at=now - timedelta(days=30)))
        create_window(s, WindowIn(title="Node split", segments=["agg-1"], starts_at=now + timedelta(hours=50),
                                  ends_at=now + timedelta(hours=52)), SYSTEM)
        create_window(s, WindowIn(title="Far away", segments=["sg-1"], starts_at=now + timedelta(days=10),
                                  ends_at=now + timedelta(days=10, hours=2)), SYSTEM)
        declare_outage(s, OutageIn(title="Fibre cut", segments=["sg-1"]), SYSTEM)
    with net.read_session() as s:
        found = context(s, segment.id)
    assert found["segment"] == "sg-1" and found["utilization"] == {"down": 0.734}
    assert [(t["direction"], t["state"]) for t in found["tickets"]] == [("down", "open")]
    shown = sorted((w["title"], w["active"]) for w in found["maintenance"])
    assert shown == [("Fibre cut", True), ("Node split", False)]  # above the segment too; not 10 days ahead
    with net.read_session() as s:
        assert context(s, None) == {"segment": None}
