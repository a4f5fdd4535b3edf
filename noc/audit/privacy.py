"""The audit log's personal data: entries about a subscriber (who looked at or changed what, and why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.audit.models import AuditEntry
from noc.audit.service import parse_details
from noc.core.privacy import DataKind, PersonalData


class AuditData(PersonalData):
    """Audit entries whose object is the subscriber; the log itself is append-only (never erased)."""

    kinds = (
        DataKind("audit_entries", "Who looked at or changed the subscriber's data, when and why",
                 "Accountability (GDPR art. 5(2)); proving that every look had a reason", "Legal obligation "
                 "(art. 6(1)(c)); legitimate interest in a tamper-evident log (art. 6(1)(f))", "audit_log",
                 "Kept whole (a tamper-evident chain); entries name the changed fields, never personal values in "
                 "clear"),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every entry about the subscriber, oldest first."""
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "subscriber",
                                                           AuditEntry.object_id == str(subscriber_id))
                                  .order_by(AuditEntry.seq))
        return {"audit_entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "role": e.role,
                                   "action": e.action, "reason": e.reason, "details": parse_details(e)}
                                  for e in entries]}


PERSONAL_DATA = AuditData()
