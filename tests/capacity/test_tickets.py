"""Upgrade tickets from rule breaches on a real database: once only, repeats, concurrency, maintenance,
hysteresis, lifecycle, webhooks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from noc.audit.models import AuditEntry
from noc.capacity.models import UpgradeTicket
from noc.capacity.service import SUSTAINED, TRENDS, evaluate, webhook_events
from noc.capacity.tickets import TicketError, transition
from noc.core.db import Database
from noc.inventory.models import Segment
from noc.maintenance.service import WindowIn, cancel_window, create_window
from noc.outbox.models import OutboxMessage
from tests.capacity.conftest import ENGINEER, T0, add_rollups


def tickets(db: Database) -> list[UpgradeTicket]:
    with db.session() as s:
        return list(s.scalars(sa.select(UpgradeTicket).order_by(UpgradeTicket.id)))


def test_sustained_breach_opens_one_ticket_with_evidence_and_repeats_add_to_it(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.5, 0.71, 0.75, 0.73])
    add_rollups(net, "sg-2", [0.69, 0.69, 0.69, 0.69])
    first = evaluate(net, SUSTAINED, now=end)
    assert first.outcomes == {"opened": 1}
    [ticket] = tickets(net)
    assert (ticket.rule, ticket.direction, ticket.state, ticket.priority) == ("sustained", "down", "open", "high")
    assert [round(e.mean, 2) for e in ticket.evidence] == [0.71, 0.75, 0.73]
    assert ticket.threshold == 0.70 and ticket.breach_count == 1
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"unchanged": 1}  # same data: nothing new
    end = add_rollups(net, "sg-1", [0.82], start=end)
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"updated": 1}
    [ticket] = tickets(net)
    assert ticket.breach_count == 2 and ticket.latest_peak == pytest.approx(0.87) and len(ticket.evidence) == 4
    with net.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "upgrade_ticket")).all()
    assert actions == ["ticket.open", "ticket.repeat"]


def test_two_evaluators_at_once_never_open_a_second_ticket(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.8, 0.8, 0.8])
    barrier, errors = threading.Barrier(4), []

    def run() -> None:
        try:
            barrier.wait()
            evaluate(net, SUSTAINED, now=end)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(tickets(net)) == 1


def test_breach_inside_a_maintenance_window_creates_no_ticket(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.8, 0.8, 0.8])
    with net.session() as s:  # the window is on the parent: works upstream cover the segment below
        window = create_window(s, WindowIn(title="Node split", starts_at=T0 - timedelta(minutes=5),
                                           ends_at=T0 + timedelta(hours=2), segments=["agg-1"], emergency=True,
                                           reason="works under way"), ENGINEER)
        window_id = window.id
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"suppressed": 1}
    assert tickets(net) == []
    with net.session() as s:
        from noc.maintenance.models import MaintenanceWindow

        cancel_window(s, s.get(MaintenanceWindow, window_id), ENGINEER)  # type: ignore[arg-type]
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"opened": 1}


def test_resolution_sets_new_capacity_and_hysteresis_needs_a_dip_below_65(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.8, 0.8, 0.8])
    evaluate(net, SUSTAINED, now=end)
    [ticket] = tickets(net)
    with net.session() as s:
        t = s.get(UpgradeTicket, ticket.id)
        assert t is not None
        with pytest.raises(TicketError, match="new capacity"):
            transition(s, t, "resolved", ENGINEER)
        transition(s, t, "acknowledged", ENGINEER)
        transition(s, t, "in_progress", ENGINEER)
        transition(s, t, "resolved", ENGINEER, new_capacity_mbps=3200, note="node split")
        with pytest.raises(TicketError, match="cannot become"):
            transition(s, t, "open", ENGINEER)
    with net.session() as s:
        assert s.scalar(sa.select(Segment.capacity_down_mbps).where(Segment.name == "sg-1")) == 3200
    # Still above 70 % right after the resolution: held, no new ticket.
    end = add_rollups(net, "sg-1", [0.78, 0.79, 0.8], start=end + timedelta(minutes=30))
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"held": 1}
    # A dip below 65 % re-arms the rule; the next sustained breach opens a new ticket.
    end = add_rollups(net, "sg-1", [0.6, 0.75, 0.76, 0.77], start=end)
    assert evaluate(net, SUSTAINED, now=end).outcomes == {"opened": 1}
    assert [t.state for t in tickets(net)] == ["resolved", "open"]


def test_rejecting_needs_a_reason(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.8, 0.8, 0.8])
    evaluate(net, SUSTAINED, now=end)
    with net.session() as s:
        t = s.scalar(sa.select(UpgradeTicket))
        assert t is not None
        with pytest.raises(TicketError, match="reason"):
            transition(s, t, "rejected", ENGINEER)
        transition(s, t, "rejected", ENGINEER, note="measurement artefact after a reroute")
        assert t.closed_at is not None


def test_ticket_events_go_to_the_outbox_once_per_event(net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.8, 0.8, 0.8])
    hook = webhook_events("http://127.0.0.1:9/hook")
    evaluate(net, SUSTAINED, now=end, on_event=hook)
    evaluate(net, SUSTAINED, now=end, on_event=hook)
    with net.session() as s:
        messages = list(s.scalars(sa.select(OutboxMessage)))
    assert len(messages) == 1
    assert messages[0].data["event"] == "ticket.opened" and messages[0].data["ticket"]["segment"] == "sg-1"
    assert messages[0].idempotency_key.startswith("noc-ticket-")


def test_forecast_opens_a_planning_ticket_with_a_date(net: Database) -> None:
    # 20 days of busy hours (19:00-23:00 Ljubljana = 18:00-22:00 UTC in November) rising 0.5 % a day.
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    for day in range(20):
        start = (now - timedelta(days=20 - day)).replace(hour=18, minute=0)
        add_rollups(net, "sg-2", [0.50 + 0.005 * day] * 48, start=start)
    report = evaluate(net, TRENDS, now=now)
    assert report.outcomes == {"opened": 1}
    [ticket] = tickets(net)
    assert ticket.rule == "forecast" and ticket.priority == "planning"
    assert ticket.predicted_date is not None and now.date() < ticket.predicted_date < (now + timedelta(days=90)).date()
