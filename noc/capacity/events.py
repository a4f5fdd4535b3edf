"""Ticket events for external ticket systems: a JSON webhook per event, sent through the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from noc.capacity.models import UpgradeTicket
from noc.capacity.tickets import TicketEvent
from noc.inventory.models import Segment
from noc.outbox.service import enqueue


def ticket_payload(session: Session, ticket: UpgradeTicket, event: str) -> dict[str, object]:
    """The JSON body describing ``ticket`` after ``event``."""
    segment = session.get(Segment, ticket.segment_id)
    return {
        "event": event,
        "ticket": {
            "id": ticket.id,
            "segment": segment.name if segment else None,
            "segment_kind": segment.kind if segment else None,
            "direction": ticket.direction, "rule": ticket.rule, "state": ticket.state, "priority": ticket.priority,
            "detail": ticket.detail, "threshold": ticket.threshold, "latest_peak": ticket.latest_peak,
            "breach_count": ticket.breach_count, "last_breach_at": ticket.last_breach_at.isoformat(),
            "predicted_date": ticket.predicted_date.isoformat() if ticket.predicted_date else None,
            "new_capacity_mbps": ticket.new_capacity_mbps,
        },
    }


def webhook_events(url: str | None) -> TicketEvent | None:
    """An event hook that queues a webhook per ticket event, or None when no webhook is configured.

    The idempotency key names the ticket, the event and the ticket's breach count, so a retried delivery or a
    re-run evaluator never makes a receiver see one event twice.
    """
    if not url:
        return None

    def emit(session: Session, ticket: UpgradeTicket, event: str) -> None:
        key = f"noc-ticket-{ticket.id}-{event}-{ticket.breach_count}"
        enqueue(session, "webhook", url, ticket_payload(session, ticket, event), key)

    return emit
