"""Writing audit entries onto the hash chain and verifying the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from noc.audit.models import AuditEntry, AuditHead
from noc.core.db import utcnow
from noc.core.security import Actor

GENESIS = "0" * 64
HEAD_ID = 1


def entry_digest(entry: AuditEntry) -> str:
    """The SHA-256 digest binding every field of ``entry`` and the digest before it."""
    fields = [
        entry.seq,
        entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        entry.actor,
        entry.role,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.reason,
        entry.details,
        entry.prev_digest,
    ]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    *,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so it commits or rolls back with the change."""
    return record_many(session, actor, [Entry(action, object_type, object_id, reason, details)])[0]


@dataclass(frozen=True)
class Entry:
    """One entry for :func:`record_many`."""

    action: str
    object_type: str
    object_id: str
    reason: str = ""
    details: dict[str, Any] | None = None


def record_many(session: Session, actor: Actor, entries: Sequence[Entry]) -> list[AuditEntry]:
    """Append ``entries`` in order in the caller's transaction, moving the chain's head once for all of them."""
    if not entries:
        return []
    last, prev = session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=AuditHead.seq + len(entries))
        .returning(AuditHead.seq, AuditHead.digest)
    ).one()
    at = utcnow()
    added = []
    for seq, item in enumerate(entries, last - len(entries) + 1):
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor=actor.name,
            role=actor.role,
            action=item.action,
            object_type=item.object_type,
            object_id=item.object_id,
            reason=item.reason,
            details=json.dumps(item.details or {}, sort_keys=True, separators=(",", ":"), default=str),
            prev_digest=prev,
        )
        entry.digest = prev = entry_digest(entry)
        added.append(entry)
    session.add_all(added)
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(digest=prev))
    return added


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a chain check: how many entries were checked and the first broken link, if any."""

    checked: int
    broken_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.broken_seq is None


def verify_entries(entries: Iterable[AuditEntry], head_seq: int, head_digest: str) -> VerifyResult:
    """Check a chain given in sequence order against its head."""
    expected_seq, prev, checked = 1, GENESIS, 0
    for entry in entries:
        if entry.seq != expected_seq:
            return VerifyResult(checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_digest != prev:
            return VerifyResult(checked, entry.seq, "does not link to the entry before it")
        if entry_digest(entry) != entry.digest:
            return VerifyResult(checked, entry.seq, "content does not match its digest (altered)")
        prev, expected_seq, checked = entry.digest, expected_seq + 1, checked + 1
    if head_seq != checked:
        return VerifyResult(checked, checked + 1, f"chain head says {head_seq} entries, found {checked}")
    if head_digest != prev:
        return VerifyResult(checked, checked, "last entry does not match the chain head")
    return VerifyResult(checked)


def verify_chain(session: Session) -> VerifyResult:
    """Walk the whole audit log in order and report the first broken link."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return VerifyResult(0, 0, "the chain head row is missing")
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000))
    return verify_entries(entries, head.seq, head.digest)


def recent(session: Session, limit: int = 50, offset: int = 0, **filters: str) -> list[AuditEntry]:
    """The newest entries first, optionally filtered by actor, action, object_type or object_id."""
    query = select(AuditEntry)
    for column, value in filters.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))


def parse_details(entry: AuditEntry) -> dict[str, Any]:
    """An entry's details as a dict."""
    value: dict[str, Any] = json.loads(entry.details)
    return value

