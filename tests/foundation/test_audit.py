"""The audit log's keyed hash chain and its anchors: intact, altered, truncated, rewritten by someone who can write
the database but lacks the secret key, and under concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from noc.audit.models import AuditEntry, AuditHead
from noc.audit.service import GENESIS, HEAD_ID, anchor, entry_digest, record, search_term, verify_chain
from noc.core.db import Database
from noc.core.security import SYSTEM, Actor
from noc.core.settings import Settings


def write_entries(db: Database, count: int) -> None:
    for i in range(count):
        with db.session() as s:
            record(s, SYSTEM, "test.write", "thing", str(i), reason="because", details={"i": i})


def test_intact_chain_verifies(db: Database) -> None:
    write_entries(db, 5)
    with db.session() as s:
        result = verify_chain(s)
    assert result.ok and result.checked == 5


def test_altered_row_is_found(db: Database) -> None:
    write_entries(db, 5)
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET reason = 'rewritten' WHERE seq = 3"))
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok and result.broken_seq == 3 and "altered" in result.problem


def test_deleted_row_is_found(db: Database) -> None:
    write_entries(db, 5)
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 2"))
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok and result.broken_seq == 2


def test_truncated_tail_is_found(db: Database) -> None:
    write_entries(db, 4)
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 4"))
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok and result.broken_seq == 4


def test_rolled_back_change_leaves_no_entry(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        record(s, SYSTEM, "test.write", "thing", "1")
        raise RuntimeError("the change failed")
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert verify_chain(s).ok


def test_concurrent_writers_extend_one_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with db.session() as s:
                    record(s, Actor(f"w{n}", "admin"), "test.write", "thing", f"{n}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        result = verify_chain(s)
    assert result.ok and result.checked == 40


def rewrite_from(db: Database, seq: int, *, unkey_all: bool = False) -> None:
    """What a database writer without the key can do: alter entry ``seq``, recompute every digest after it with the
    public (unkeyed) scheme and move the head along."""
    with db.session() as s:
        entries = list(s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))
        prev = GENESIS
        for entry in entries:
            if unkey_all or entry.seq >= seq:
                entry.keyed = False
            if entry.seq == seq:
                entry.reason = "rewritten"
            if unkey_all or entry.seq >= seq:
                entry.prev_digest = prev
                entry.digest = entry_digest(entry, b"")
            prev = entry.digest
        head = s.get(AuditHead, HEAD_ID)
        assert head is not None
        head.digest = prev


def test_rewriting_and_recomputing_later_digests_is_found(db: Database) -> None:
    write_entries(db, 5)
    rewrite_from(db, 3)
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok and result.broken_seq == 3 and "unkeyed entry after keyed" in result.problem


def test_unkeying_the_whole_chain_is_found_by_its_anchor(db: Database, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    write_entries(db, 5)
    with db.session() as s:
        assert anchor(s, anchors) is not None
        assert anchor(s, anchors) is None  # unchanged head: no new anchor
    rewrite_from(db, 3, unkey_all=True)
    with db.session() as s:
        result = verify_chain(s, anchors)
    assert not result.ok and result.broken_seq == 5 and "differs from the anchor" in result.problem


def test_deleting_the_newest_entries_and_winding_back_the_head_is_found(db: Database, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    write_entries(db, 5)
    with db.session() as s:
        anchor(s, anchors)
        assert verify_chain(s, anchors).ok
    with db.session() as s:
        third = s.scalar(sa.select(AuditEntry.digest).where(AuditEntry.seq == 3))
        s.execute(sa.delete(AuditEntry).where(AuditEntry.seq > 3))
        s.execute(sa.update(AuditHead).values(seq=3, digest=third))
    with db.session() as s:
        assert verify_chain(s).ok  # the chain alone is consistent: only the anchor shows the loss
        result = verify_chain(s, anchors)
    assert not result.ok and "truncated" in result.problem and "saw 5 entries, the log has 3" in result.problem


def test_emptying_the_log_is_found(db: Database, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    write_entries(db, 3)
    with db.session() as s:
        anchor(s, anchors)
    with db.session() as s:
        s.execute(sa.delete(AuditEntry))
        s.execute(sa.update(AuditHead).values(seq=0, digest=GENESIS))
    with db.session() as s:
        result = verify_chain(s, anchors)
    assert not result.ok and "truncated" in result.problem


def test_a_forged_anchor_is_found(db: Database, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    write_entries(db, 2)
    anchors.write_text('{"at":"2026-01-01T00:00:00+00:00","seq":2,"digest":"00","tag":"00"}\n')
    with db.session() as s:
        result = verify_chain(s, anchors)
    assert not result.ok and "not genuine" in result.problem


def test_another_secret_key_cannot_extend_the_chain(db: Database, settings: Settings) -> None:
    write_entries(db, 2)
    other = Database(settings.resolved_database_url())
    other.attach_secret(lambda: "another-secret-key-0123456789")
    write_entries(other, 1)
    other.dispose()
    with db.session() as s:
        result = verify_chain(s)
    assert not result.ok and result.broken_seq == 3


def test_search_terms_are_keyed_hashes(db: Database) -> None:
    with db.session() as s:
        term = search_term(s, "Janez.Novak@example.si ")
        assert term == search_term(s, "janez.novak@example.si") and "novak" not in term
