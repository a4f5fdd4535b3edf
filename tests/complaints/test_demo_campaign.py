"""The demo's speed complaint: seeded like `noc demo` does, its record says discrepancy caused by access congestion,
and the seeded utilization raises no capacity ticket."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.auth.demo import DEMO as AUTH_DEMO
from noc.capabilities import runtime
from noc.capacity.models import UpgradeTicket
from noc.capacity.service import SUSTAINED, TRENDS, evaluate
from noc.complaints.demo import DEMO, SUBSCRIBER
from noc.complaints.models import ComplaintCase, Measurement
from noc.core.capability import DemoContext
from noc.core.db import Database
from noc.demo import demo_settings
from noc.inventory.demo import DEMO as INVENTORY_DEMO
from noc.inventory.models import Subscriber
from noc.migrations import upgrade


def test_the_demo_subscriber_has_a_ready_campaign_with_congestion(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, "127.0.0.1", 0)
    db = Database(settings.resolved_database_url())
    upgrade(db)
    rt = runtime(settings, db)
    ctx = DemoContext(rt, tmp_path, 20161, 30161)
    for part in (AUTH_DEMO, INVENTORY_DEMO, DEMO):
        assert part.seed is not None
        part.seed(ctx)
        part.seed(ctx)  # a restarted demo seeds nothing twice
    with db.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Measurement)) == 6
        case = s.scalar(sa.select(ComplaintCase))
        sid = s.scalar(sa.select(Subscriber.id).where(Subscriber.number == SUBSCRIBER))
    assert case is not None and case.state == "open" and case.capture_ended_at is None
    assert any(f"/api/v1/subscribers/{sid}/discrepancy" in note for note in ctx.notes)
    tokens = json.loads((tmp_path / "tokens.json").read_text())
    handler = {"Authorization": f"Bearer {tokens['complaint_handler']}"}
    with TestClient(create_app(settings, db, scheduler=False, rt=rt)) as client:
        answer = client.get(f"/api/v1/subscribers/{sid}/discrepancy?from={case.period_from}&to={case.period_to}",
                            headers=handler)
        assert answer.status_code == 200, answer.text
        record = answer.json()
    assert record["verdict"] == "discrepancy" and record["campaign"]["valid"]
    assert record["cause"] == "access congestion"
    assert "ran while sg-maribor-1 was at" in record["causes"][0]["evidence"]
    evenings = [m for m in record["measurements"] if m["local_time"][11:13] >= "21"]
    assert len(evenings) == 5 and all(m["context"]["utilization"]["down"] >= 0.78 for m in evenings)
    evaluate(db, SUSTAINED)
    evaluate(db, TRENDS)
    with db.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(UpgradeTicket)) == 0
    rt.close()
    db.dispose()
