"""The demo's speed complaint: a subscriber on the congested segment with a ready measurement campaign.

S-100003 (package cable-500, on ``sg-maribor-1``, the segment that climbs past 70 % in the demo) measured on five
evenings ending two days before the demo was first seeded, outside the AKOS peak hours, over LAN, well below the
normally available speed; once at midday they got nearly the full speed. The demo is freshly started, so its live
rollups cannot reach back to those evenings: the segment's utilization around each measurement is seeded through
capacity's own service (``store_points``: 30-second rollups, 20 minutes around each measurement, busy at the
evenings and quiet at midday). Twenty minutes per evening covers too little of the busy hours for capacity's
busy-hour rule, and two days back lies outside its sustained rule's look-back, so no ticket comes of it. A case is
opened for the subscriber with the campaign as its period, so the evidence capture polls the simulated modem.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.capacity.rollups import store_points
from noc.complaints.measurements import MeasurementWriter, read_records
from noc.complaints.models import ComplaintCase, Measurement
from noc.complaints.service import CaseIn, open_case
from noc.core.capability import DemoContext, DemoPart
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.inventory.models import Segment, Subscriber
from noc.polling.events import SegmentPoint

SUBSCRIBER = "S-100003"
SEGMENT = "sg-maribor-1"
CAPACITY_BPS = {"down": 1600e6, "up": 200e6}
EVENINGS = ("21:30", "22:40", "21:10", "22:50", "21:45")
MIDDAY = (1, "12:15")
"""(campaign day index, local time) of the one fast measurement."""
SEED = 12
ACTOR = Actor(name="demo", role="complaint_handler")


def campaign(first_seeded: date, zone: ZoneInfo, rng: random.Random) -> list[dict[str, str]]:
    """The RMBT records of the campaign (five evenings ending two days before ``first_seeded``, one midday)."""
    days = [first_seeded - timedelta(days=6 - k) for k in range(5)]
    slots = [(days[k], clock, rng.uniform(170, 235), rng.uniform(46, 52)) for k, clock in enumerate(EVENINGS)]
    slots.append((days[MIDDAY[0]], MIDDAY[1], rng.uniform(465, 490), rng.uniform(49, 52)))
    records = []
    for day, clock, down, up in sorted(slots, key=lambda s: (s[0], s[1])):
        at = datetime.combine(day, time.fromisoformat(clock), zone).astimezone(UTC)
        records.append({"open_test_uuid": f"O{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                        "time_utc": at.strftime("%Y-%m-%d %H:%M:%S"), "download_kbit": str(round(down * 1000)),
                        "upload_kbit": str(round(up * 1000)), "ping_ms": f"{rng.uniform(9, 14):.1f}",
                        "jitter_ms": f"{rng.uniform(0.5, 3):.1f}", "network_type": "LAN", "platform": "Windows",
                        "server_name": "AKOS Test Net Ljubljana", "subscriber": SUBSCRIBER})
    return records


def utilization(segment_id: int, records: list[dict[str, str]], zone: ZoneInfo,
                rng: random.Random) -> list[SegmentPoint]:
    """Points every 30 s, 10 minutes either side of each measurement: 78–92 % down at the evenings, 20–30 % at
    midday; the upstream stays at 30–40 %."""
    points: list[SegmentPoint] = []
    for record in records:
        at = datetime.fromisoformat(record["time_utc"]).replace(tzinfo=UTC)
        evening = at.astimezone(zone).hour >= 19
        for k in range(-20, 20):
            share = {"down": rng.uniform(0.78, 0.92) if evening else rng.uniform(0.20, 0.30),
                     "up": rng.uniform(0.30, 0.40)}
            points.extend(SegmentPoint(segment_id, d, int(at.timestamp()) + 30 * k, share[d] * CAPACITY_BPS[d],
                                       CAPACITY_BPS[d]) for d in ("down", "up"))
    return points


def seed(ctx: DemoContext) -> None:
    """Store the campaign, its segment utilization and a case, once (a restarted demo keeps them)."""
    settings = ctx.runtime.settings
    zone = ZoneInfo(settings.timezone)
    with ctx.runtime.db.session() as s:
        subscriber_id = s.scalar(select(Subscriber.id).where(Subscriber.number == SUBSCRIBER))
        segment_id = s.scalar(select(Segment.id).where(Segment.name == SEGMENT))
        if subscriber_id is None or segment_id is None:
            return
        if s.scalar(select(Measurement.id).where(Measurement.subscriber_id == subscriber_id).limit(1)) is None:
            _store(s, settings, segment_id, zone)
        case = s.scalar(select(ComplaintCase).where(ComplaintCase.subscriber_id == subscriber_id)
                        .order_by(ComplaintCase.id).limit(1))
    if case is not None:
        ctx.notes.append(f"speed complaint: {SUBSCRIBER} has a ready campaign: GET /api/v1/subscribers/"
                         f"{subscriber_id}/discrepancy?from={case.period_from}&to={case.period_to} says discrepancy, "
                         f"access congestion; complaint {case.id} has its evidence pack at "
                         f"/api/v1/complaints/{case.id}/evidence")


def _store(s: Session, settings: Settings, segment_id: int, zone: ZoneInfo) -> None:
    """The campaign's measurements (through the importer), its utilization (capacity's service) and the case."""
    rng = random.Random(SEED)
    today = datetime.now(zone).date()
    records = campaign(today, zone, rng)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    content = buffer.getvalue().encode()
    MeasurementWriter(s, ACTOR, reason="demo campaign", via="demo").store(
        content, read_records("demo-campaign.csv", content))
    store_points(s, utilization(segment_id, records, zone, rng), settings.rollup_period_s)
    first = today - timedelta(days=6)
    open_case(s, settings, ACTOR, CaseIn(
        subscriber=SUBSCRIBER, channel="phone", description="Internet is slow every evening.",
        learned_on=first, event_date=first, lodged_on=today, period_from=first, period_to=today + timedelta(days=2)),
        reason="demo")


DEMO = DemoPart(seed=seed)
