"""Writing audit entries onto the keyed hash chain, anchoring its head outside the database, verifying both.

Each entry's digest is an HMAC-SHA256 under a key derived from ``NOC_SECRET_KEY`` (never stored in the
database) over its fields and the digest before it: whoever can write the database but lacks the key cannot
rewrite an entry and recompute the ones after it. Deleting the newest entries (and winding the head back) leaves
a consistent shorter chain, so the head is also *anchored* at intervals outside the database: its count and
digest appended to a file (keep it on append-only storage), written to the log, and offered to a webhook.
Entries written before the chain was keyed (``keyed`` false) are checked with plain SHA-256; none may follow a
keyed one.

The retention job may remove the oldest entries (:func:`cut`): it first records a *checkpoint*, the last removed
entry's number and digest tagged with the chain's key, and the check then starts from it, so what remains is
verified as before and a forged checkpoint is found.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from noc.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from noc.core.crypto import session_key
from noc.core.db import utcnow
from noc.core.security import Actor

log = logging.getLogger("noc.audit")
GENESIS = "0" * 64
HEAD_ID = 1
CHECKPOINT_ID = 1


CHAIN_PURPOSE = "audit-chain"
TERMS_PURPOSE = "audit-search-terms"
VALUES_PURPOSE = "audit-changed-values"
"""Purposes of the keys derived from the secret key (the chain, search terms, changed personal values)."""


def entry_digest(entry: AuditEntry, key: bytes) -> str:
    """The digest binding every field of ``entry`` and the digest before it: HMAC-SHA256 under ``key``, or plain
    SHA-256 for an entry from before the chain was keyed."""
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
    data = json.dumps(fields, separators=(",", ":")).encode()
    if entry.keyed is False:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def chain_key(session: Session) -> bytes:
    """The chain's key, derived from the secret key attached to the session's database."""
    return session_key(session, CHAIN_PURPOSE)


def search_term(session: Session, value: str) -> str:
    """How a personal value someone searched for is kept in the audit log: a keyed hash (``noc audit term``
    computes it, so an auditor can find the searches for a value without the log holding it)."""
    tag = hmac.new(session_key(session, TERMS_PURPOSE), value.strip().lower().encode(), hashlib.sha256)
    return "hmac:" + tag.hexdigest()[:32]


def value_hash(session: Session, value: Any) -> str:
    """How an old or new value of a changed personal field is kept in the audit log: a keyed hash of the exact value
    (``noc audit term --changed`` computes it, so an auditor can check what a field held)."""
    text = "" if value is None else str(value)
    return "hmac:" + hmac.new(session_key(session, VALUES_PURPOSE), text.encode(), hashlib.sha256).hexdigest()[:32]


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
    at, key = utcnow(), chain_key(session)
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
            keyed=True,
        )
        entry.digest = prev = entry_digest(entry, key)
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
    failed: bool = False
    """Broken without naming an entry (a forged anchor)."""

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.broken_seq is None and not self.failed


@dataclass(frozen=True)
class Start:
    """Where a check starts: before the first entry (genesis), or at a checkpoint left by a cut."""

    seq: int = 0
    digest: str = GENESIS
    keyed: bool = False


def verify_entries(entries: Iterable[AuditEntry], head_seq: int, head_digest: str, key: bytes,
                   start: Start = Start()) -> VerifyResult:
    """Check a chain given in sequence order, from ``start``, against its head."""
    expected_seq, prev, checked, keyed_seen = start.seq + 1, start.digest, 0, start.keyed
    for entry in entries:
        if entry.seq != expected_seq:
            return VerifyResult(checked, expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_digest != prev:
            return VerifyResult(checked, entry.seq, "does not link to the entry before it")
        if keyed_seen and entry.keyed is False:
            return VerifyResult(checked, entry.seq, "an unkeyed entry after keyed ones (rewritten)")
        if not hmac.compare_digest(entry_digest(entry, key), entry.digest):
            return VerifyResult(checked, entry.seq, "content does not match its digest (altered, or written "
                                "under another secret key)")
        keyed_seen = keyed_seen or entry.keyed is not False
        prev, expected_seq, checked = entry.digest, expected_seq + 1, checked + 1
    if head_seq != start.seq + checked:
        return VerifyResult(checked, start.seq + checked + 1, f"chain head says {head_seq} entries, found "
                            f"{start.seq + checked}")
    if head_digest != prev:
        return VerifyResult(checked, start.seq + checked, "last entry does not match the chain head")
    return VerifyResult(checked)


def checkpoint_tag(key: bytes, checkpoint: AuditCheckpoint) -> str:
    """The HMAC binding a checkpoint's time, entry number, digest and keying."""
    at = checkpoint.at.astimezone(UTC).isoformat(timespec="microseconds")
    data = f"checkpoint|{at}|{checkpoint.seq}|{checkpoint.digest}|{int(checkpoint.keyed)}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def chain_start(session: Session, key: bytes) -> Start | None:
    """Where the chain starts: genesis, or the checkpoint of the last cut; None when the checkpoint is forged."""
    checkpoint = session.get(AuditCheckpoint, CHECKPOINT_ID)
    if checkpoint is None:
        return Start()
    if not hmac.compare_digest(checkpoint_tag(key, checkpoint), checkpoint.tag):
        return None
    return Start(checkpoint.seq, checkpoint.digest, checkpoint.keyed)


def verify_chain(session: Session, anchors: Path | None = None) -> VerifyResult:
    """Walk the audit log in order from its start (genesis or the retention checkpoint) and report the first broken
    link; then hold the chain against every anchor in ``anchors`` (a truncated or rewritten chain no longer reaches
    or matches them; anchors older than the checkpoint saw entries retention removed)."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return VerifyResult(0, 0, "the chain head row is missing")
    key = chain_key(session)
    start = chain_start(session, key)
    if start is None:
        return VerifyResult(0, None, "the retention checkpoint is not genuine (forged or under another secret key)",
                            failed=True)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.seq > start.seq).order_by(AuditEntry.seq)
                              .execution_options(yield_per=1000))
    result = verify_entries(entries, head.seq, head.digest, key, start)
    if not result.ok or anchors is None:
        return result
    for number, anchor in enumerate(read_anchors(anchors), 1):
        if not hmac.compare_digest(anchor_tag(key, anchor), str(anchor.get("tag", ""))):
            return VerifyResult(result.checked, None, f"anchor {number} in {anchors} is not genuine (forged or "
                                "under another secret key)", failed=True)
        seq, digest = int(anchor["seq"]), str(anchor["digest"])
        if seq > head.seq:
            return VerifyResult(result.checked, head.seq + 1, f"truncated: the anchor of {anchor['at']} saw "
                                f"{seq} entries, the log has {head.seq}")
        if seq == 0 or seq < start.seq:
            continue
        found = start.digest if seq == start.seq else session.scalar(select(AuditEntry.digest)
                                                                     .where(AuditEntry.seq == seq))
        if found != digest:
            return VerifyResult(result.checked, seq, f"differs from the anchor of {anchor['at']} (the chain was "
                                "rewritten from here or before)")
    return result


def cut(session: Session, through: int, at: datetime) -> int:
    """Remove the entries up to number ``through`` (retention), first moving the checkpoint to the last of them, in
    the caller's transaction; how many were removed. The chain's check then starts at the checkpoint. What would be
    removed is verified first: a broken part is not cut (that would hide the break), it is logged and kept."""
    key = chain_key(session)
    start = chain_start(session, key)
    last = session.get(AuditEntry, through)
    if start is None or last is None or through <= start.seq:
        return 0
    removed_part = session.scalars(select(AuditEntry).where(AuditEntry.seq > start.seq, AuditEntry.seq <= through)
                                   .order_by(AuditEntry.seq).execution_options(yield_per=1000))
    with removed_part:
        check = verify_entries(removed_part, through, last.digest, key, start)
    if not check.ok:
        log.error("audit retention: the chain is not cut, it is broken at entry %s: %s", check.broken_seq,
                  check.problem)
        return 0
    checkpoint = session.get(AuditCheckpoint, CHECKPOINT_ID) or AuditCheckpoint(id=CHECKPOINT_ID)
    checkpoint.seq, checkpoint.digest, checkpoint.keyed, checkpoint.at = through, last.digest, last.keyed, at
    checkpoint.tag = checkpoint_tag(key, checkpoint)
    session.add(checkpoint)
    removed = session.execute(delete(AuditEntry).where(AuditEntry.seq <= through)
                              .execution_options(preserve_rowcount=True))
    return int(removed.rowcount)  # type: ignore[attr-defined]


def anchor_tag(key: bytes, anchor: dict[str, Any]) -> str:
    """The HMAC binding an anchor's time, count and digest."""
    data = f"{anchor.get('at')}|{anchor.get('seq')}|{anchor.get('digest')}".encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def read_anchors(path: Path) -> list[dict[str, Any]]:
    """The anchors in ``path`` (none when it does not exist); a damaged line counts as a forged anchor."""
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                anchors.append(dict(json.loads(line)))
            except ValueError:
                anchors.append({"at": "?", "seq": 0, "digest": "", "tag": "damaged line"})
    return anchors


def anchor(session: Session, path: Path) -> dict[str, Any] | None:
    """Append the chain head (count, digest) to ``path`` as a keyed anchor and return it; None when the head has
    not moved since the last anchor."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return None
    previous = read_anchors(path)
    if previous and previous[-1].get("seq") == head.seq and previous[-1].get("digest") == head.digest:
        return None
    record_ = {"at": utcnow().isoformat(timespec="seconds"), "seq": head.seq, "digest": head.digest}
    record_["tag"] = anchor_tag(chain_key(session), record_)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(json.dumps(record_, separators=(",", ":")) + "\n")
    return record_


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

