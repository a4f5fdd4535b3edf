"""The audit log's personal data: entries about a subscriber (who looked at or changed what, and why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from noc.audit.models import AuditEntry
from noc.audit.service import cut, parse_details
from noc.core.privacy import DataKind, Expiry, PersonalData


class AuditData(PersonalData):
    """Audit entries whose object is the subscriber; the log is append-only: never erased, only its oldest entries
    removed by retention, which cuts the chain at a keyed checkpoint."""

    kinds = (
        DataKind("audit_entries", "Who looked at or changed the subscriber's data, when and why",
                 "Accountability (GDPR art. 5(2)); proving that every look had a reason", "Legal obligation "
                 "(art. 6(1)(c)); legitimate interest in a tamper-evident log (art. 6(1)(f))", "audit_log",
                 "Not erased (a tamper-evident chain); the oldest entries are removed after the retention, the chain "
                 "cut at a keyed checkpoint, never from an entry about a subscriber under a hold on. Entries name "
                 "changed personal fields with keyed hashes of the old and new values, never the values", 3653),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every entry about the subscriber, oldest first."""
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "subscriber",
                                                           AuditEntry.object_id == str(subscriber_id))
                                  .order_by(AuditEntry.seq))
        return {"audit_entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "role": e.role,
                                   "action": e.action, "reason": e.reason, "details": parse_details(e)}
                                  for e in entries]}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Remove the entries older than the retention from the start of the chain, stopping before the first entry
        about a held subscriber (the chain can only be cut, not holed)."""
        cutoff = expiry.cutoff("audit_entries")
        stop = session.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
        if stop is None:
            stop = (session.scalar(select(func.max(AuditEntry.seq))) or 0) + 1
        if expiry.held:
            about = session.execute(select(AuditEntry.seq, AuditEntry.object_id)
                                    .where(AuditEntry.object_type == "subscriber", AuditEntry.seq < stop)
                                    .order_by(AuditEntry.seq).execution_options(yield_per=1000))
            held = {str(subscriber_id) for subscriber_id in expiry.held}
            with about:
                stop = next((seq for seq, ids in about if held & set(ids.split(","))), stop)
        return {"audit_entries": cut(session, stop - 1, expiry.now) if stop > 1 else 0}


PERSONAL_DATA = AuditData()
