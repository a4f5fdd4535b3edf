"""Privacy's own part: legal holds keep a subscriber's data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, PersonalData, records
from noc.privacy.models import LegalHold


class HoldData(PersonalData):
    """Legal holds on subscribers."""

    kinds = (
        DataKind("legal_holds", "Holds placed on the subscriber's data, with the reason and who placed them",
                 "Keeping data a court, an authority or a dispute needs", "Legal obligation (art. 6(1)(c)); "
                 "legal claims (art. 17(3)(e))", "privacy_holds", "Until the hold is released, then with the "
                 "subscriber"),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every hold, released or not."""
        return {"legal_holds": records(session, select(LegalHold.id, LegalHold.reason, LegalHold.placed_by,
                                                       LegalHold.placed_at, LegalHold.released_by,
                                                       LegalHold.released_at)
                                       .where(LegalHold.subscriber_id == subscriber_id).order_by(LegalHold.id))}

    def holds(self, session: Session) -> dict[int, list[str]]:
        """Subscribers with a hold not released."""
        held: dict[int, list[str]] = {}
        for hold in session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)):
            held.setdefault(hold.subscriber_id, []).append(f"legal hold {hold.id}: {hold.reason}")
        return held


PERSONAL_DATA = HoldData()
