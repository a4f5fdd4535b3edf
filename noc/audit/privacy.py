"""The audit log's personal data: entries about a subscriber (who looked at or changed what, and why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from noc.audit.models import AuditEntry
from noc.audit.service import cut, parse_details
from noc.core.privacy import DataKind, Expiry, PersonalData


def about(objects: set[tuple[str, str]]) -> ColumnElement[bool]:
    """Entries whose object is one of ``objects`` ((object type, id) pairs)."""
    ids: dict[str, list[str]] = {}
    for kind, object_id in objects:
        ids.setdefault(kind, []).append(object_id)
    return or_(false(), *(and_(AuditEntry.object_type == kind, AuditEntry.object_id.in_(sorted(values)))
                          for kind, values in sorted(ids.items())))


class AuditData(PersonalData):
    """Audit entries about the subscriber or their records; the log is append-only: never erased, only its oldest
    entries removed by retention, which cuts the chain at a keyed checkpoint."""

    kinds = (
        DataKind("audit_entries", "Who looked at or changed the subscriber's data, when and why",
                 "Accountability (GDPR art. 5(2)); proving that every look had a reason", "Legal obligation "
                 "(art. 6(1)(c)); legitimate interest in a tamper-evident log (art. 6(1)(f))", "audit_log",
                 "Not erased (a tamper-evident chain); the oldest entries are removed after the retention, the chain "
                 "cut at a keyed checkpoint, never from an entry about a subscriber under a hold or their records "
                 "on. Entries name changed personal fields with keyed hashes of the old and new values, never the "
                 "values", 3653),
    )

    def export_about(self, session: Session, subscriber_id: int,
                     objects: set[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
        """Every entry about the subscriber or their records (``objects``: cases, live sessions, contracts, CPEs),
        oldest first."""
        entries = session.scalars(select(AuditEntry).where(about(objects)).order_by(AuditEntry.seq))
        return {"audit_entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "role": e.role,
                                   "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                                   "reason": e.reason, "details": parse_details(e)} for e in entries]}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Remove the entries older than the retention from the start of the chain, stopping before the first entry
        about a held subscriber or their records (the chain can only be cut, not holed)."""
        cutoff = expiry.cutoff("audit_entries")
        stop = session.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
        if stop is None:
            stop = (session.scalar(select(func.max(AuditEntry.seq))) or 0) + 1
        if expiry.held:
            held = {str(subscriber_id) for subscriber_id in expiry.held}
            kept = expiry.held_objects
            types = {kind for kind, _ in kept} | {"subscriber"}
            entries = session.execute(select(AuditEntry.seq, AuditEntry.object_type, AuditEntry.object_id)
                                      .where(AuditEntry.object_type.in_(types), AuditEntry.seq < stop)
                                      .order_by(AuditEntry.seq).execution_options(yield_per=1000))
            with entries:
                stop = next((seq for seq, kind, ids in entries if (kind, ids) in kept
                             or (kind == "subscriber" and held & set(ids.split(",")))), stop)
        return {"audit_entries": cut(session, stop - 1, expiry.now) if stop > 1 else 0}


PERSONAL_DATA = AuditData()
