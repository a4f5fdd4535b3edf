"""The outbox's personal data: mails to subscribers (their address and what the mail was about).

A message is about a subscriber when its payload carries ``"subscriber": <id>`` (notices do)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, Expiry, PersonalData, affected
from noc.outbox.models import OutboxMessage

ERASED = "(erased)"


def _about(session: Session, subscriber_id: int) -> list[OutboxMessage]:
    candidates = session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "email", OutboxMessage.payload.like(f"%{subscriber_id}%")).order_by(OutboxMessage.id))
    return [m for m in candidates if m.data.get("subscriber") == subscriber_id]


class OutboxData(PersonalData):
    """E-mail messages to subscribers."""

    kinds = (
        DataKind("mails", "E-mails sent to the subscriber: address, topic (which notice), state and times",
                 "Telling subscribers of planned works and network problems",
                 "Contract (art. 6(1)(b)); the subscriber may opt out in every notice", "outbox",
                 "180 days after sending (or giving up)", 180),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every mail to the subscriber."""
        return {"mails": [{"topic": m.topic, "to": m.destination, "state": m.state, "about": m.data,
                           "created_at": m.created_at.isoformat(),
                           "sent_at": m.sent_at.isoformat() if m.sent_at else None}
                          for m in _about(session, subscriber_id)]}

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Withdraw pending mails and blank every mail's address."""
        ids = [m.id for m in _about(session, subscriber_id)]
        affected(session, update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.state == "pending")
                 .values(state="withdrawn"))
        return {"mails": affected(session, update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                  .values(destination=ERASED))}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Mails sent, dead or withdrawn before the cut-off (held subscribers' too: mails are not evidence)."""
        return {"mails": affected(session, delete(OutboxMessage).where(
            OutboxMessage.channel == "email", OutboxMessage.state != "pending",
            OutboxMessage.created_at < expiry.cutoff("mails")))}


PERSONAL_DATA = OutboxData()
