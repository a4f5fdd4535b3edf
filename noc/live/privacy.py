"""Live checks' personal data: sessions (the caller's number, the contact and its reason) and their readings."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, Expiry, PersonalData, affected, records
from noc.live.models import OBJECT, LiveReading, LiveSession

CONTACT = "Contract: remote assistance the subscriber asked for (art. 6(1)(b)); accountability (art. 5(2))"


class LiveData(PersonalData):
    """Live sessions on the subscriber's CPE and the readings taken in them."""

    kinds = (
        DataKind("live_sessions", "Live checks of the subscriber's CPE: agent, caller's number, consent, contact "
                 "reference, reason, times and the closing note", "Remote assistance; proving that every look had "
                 "an identified caller and a reason", CONTACT, "live_sessions",
                 "2 years after the session (claims about the assistance)", 730,
                 fields=("caller_number", "contact_ref", "reason", "note")),
        DataKind("live_readings", "CPE readings taken during a live check (signal levels, errors, traffic, "
                 "reachability)", "Remote assistance", CONTACT, "live_readings", "30 days after the reading", 30),
    )

    def audit_objects(self, session: Session, subscriber_ids: Collection[int]) -> set[tuple[str, str]]:
        """The subscribers' live sessions (audited as opened, streamed, closed)."""
        return {(OBJECT, str(i)) for i in session.scalars(
            select(LiveSession.id).where(LiveSession.subscriber_id.in_(list(subscriber_ids))))}

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every session on the subscriber's CPEs with its readings."""
        sessions = select(LiveSession.id).where(LiveSession.subscriber_id == subscriber_id)
        readings = [{**row, "reading": json.loads(row["reading"])} for row in records(session, select(
            LiveReading.session_id, LiveReading.at, LiveReading.state, LiveReading.grade, LiveReading.reading)
            .where(LiveReading.session_id.in_(sessions)).order_by(LiveReading.at))]
        return {"live_sessions": records(session, select(*LiveSession.__table__.c).where(
                    LiveSession.subscriber_id == subscriber_id).order_by(LiveSession.id)),
                "live_readings": readings}

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Delete the readings; keep each session's facts (agent, times, reason) without the caller's number."""
        sessions = select(LiveSession.id).where(LiveSession.subscriber_id == subscriber_id)
        readings = affected(session, delete(LiveReading).where(LiveReading.session_id.in_(sessions)))
        changed = affected(session, update(LiveSession).where(LiveSession.subscriber_id == subscriber_id)
                           .values(caller_number=""))
        return {"live_readings": readings, "live_sessions": changed}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Old readings, then old closed sessions (held subscribers' are kept)."""
        held = list(expiry.held)
        held_sessions = select(LiveSession.id).where(LiveSession.subscriber_id.in_(held))
        readings = affected(session, delete(LiveReading).where(
            LiveReading.at < expiry.cutoff("live_readings"), LiveReading.session_id.not_in(held_sessions)))
        sessions = affected(session, delete(LiveSession).where(
            LiveSession.state != "open", LiveSession.opened_at < expiry.cutoff("live_sessions"),
            LiveSession.subscriber_id.not_in(held)))
        return {"live_readings": readings, "live_sessions": sessions}


PERSONAL_DATA = LiveData()
