"""Audit retention with a clock, on SQLite and PostgreSQL: the oldest entries go, the chain is cut at a keyed
checkpoint, `noc audit verify` passes afterwards (also against anchors taken before the cut) and still finds a kept
entry altered, deleted or inserted, and a forged checkpoint; a held subscriber's entries stop the cut."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from noc.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from noc.audit.privacy import PERSONAL_DATA as AUDIT_DATA
from noc.audit.service import anchor, record, verify_chain
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.privacy import Expiry
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.privacy.service import run_retention
from tests.foundation.test_cli import noc

DAYS = 3653
"""The declared default retention of audit entries."""


def write(db: Database, objects: list[str], object_type: str = "thing") -> None:
    for object_id in objects:
        with db.session() as s:
            record(s, SYSTEM, "test.write", object_type, object_id, reason="because")
            s.commit()


def at_of(db: Database, seq: int) -> datetime:
    with db.read_session() as s:
        entry = s.get(AuditEntry, seq)
        assert entry is not None, f"no audit entry {seq}"
        return entry.at


def cut_after_three(db: Database, rt: Runtime, anchors: Path | None = None) -> datetime:
    """Six entries, the first three older than the retention on the clock returned (the head anchored in between
    when ``anchors`` is given); the retention job run."""
    write(db, ["1", "2", "3"])
    if anchors is not None:
        with db.read_session() as s:
            assert anchor(s, anchors) is not None  # seen before the cut: its entries will be gone
    write(db, ["4", "5", "6"])
    assert at_of(db, 3) < at_of(db, 4)
    now = at_of(db, 4) + timedelta(days=DAYS)
    counts = run_retention(db, rt.settings, rt.personal_data, now=now)
    assert counts["audit_entries"] == 3, counts
    return now


def test_retention_cuts_the_chain_and_verify_still_passes(db: Database, rt: Runtime, settings: Settings) -> None:
    anchors = settings.resolved_anchor_file()
    cut_after_three(db, rt, anchors)
    with db.read_session() as s:
        assert anchor(s, anchors) is not None
        seqs = list(s.scalars(sa.select(AuditEntry.seq).order_by(AuditEntry.seq)))
        checkpoint = s.get(AuditCheckpoint, 1)
        result = verify_chain(s, anchors)
    assert seqs[0] == 4 and checkpoint is not None and checkpoint.seq == 3, (seqs, checkpoint)
    assert result.ok and result.checked == len(seqs), result
    assert "audit chain intact" in noc(settings, "audit", "verify", check=True).stdout

    now = at_of(db, seqs[-1]) + timedelta(days=DAYS + 1)  # everything expired: the chain is all checkpoint
    assert run_retention(db, rt.settings, rt.personal_data, now=now)["audit_entries"] == len(seqs)
    with db.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1  # this run's own entry
        assert verify_chain(s, anchors).ok


def alter(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE audit_log SET reason = 'rewritten' WHERE seq = 7"))


def delete_first_kept(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 4"))


def delete_and_move_checkpoint(conn: sa.Connection) -> None:
    """What someone without the key would do to hide entry 4: cut it too, pointing the checkpoint past it."""
    digest = conn.execute(sa.text("SELECT digest FROM audit_log WHERE seq = 4")).scalar_one()
    conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 4"))
    conn.execute(sa.text("UPDATE audit_checkpoint SET seq = 4, digest = :d"), {"d": digest})


def drop_checkpoint(conn: sa.Connection) -> None:
    conn.execute(sa.text("DELETE FROM audit_checkpoint"))


def insert(conn: sa.Connection) -> None:
    """An entry slipped in after the head, the head moved to it: its digest cannot be made without the key."""
    head = conn.execute(sa.select(AuditHead.seq, AuditHead.digest)).one()
    conn.execute(sa.insert(AuditEntry).values(
        seq=head.seq + 1, at=at_of_row(conn, head.seq), actor="mallory", role="admin", action="test.write",
        object_type="thing", object_id="x", reason="", details="{}", prev_digest=head.digest, digest="f" * 64,
        keyed=True))
    conn.execute(sa.update(AuditHead).values(seq=head.seq + 1, digest="f" * 64))


def at_of_row(conn: sa.Connection, seq: int) -> datetime:
    value: datetime = conn.execute(sa.select(AuditEntry.at).where(AuditEntry.seq == seq)).scalar_one()
    return value


@pytest.mark.parametrize(("tamper", "found"), [
    (alter, "at entry 7: content does not match"),
    (delete_first_kept, "at entry 4: entry 4 is missing"),
    (delete_and_move_checkpoint, "checkpoint is not genuine"),
    (drop_checkpoint, "at entry 1: entry 1 is missing"),
    (insert, "content does not match"),
])
def test_verify_still_finds_tampering_after_a_cut(db: Database, rt: Runtime, settings: Settings,
                                                   tamper: Callable[[sa.Connection], None], found: str) -> None:
    cut_after_three(db, rt)
    write(db, ["7", "8"])
    with db.read_session() as s:
        assert verify_chain(s).ok
    with db.engine.begin() as conn:
        tamper(conn)
    with db.read_session() as s:
        assert not verify_chain(s).ok
    done = noc(settings, "audit", "verify")
    assert done.returncode == 1 and found in done.stderr, done.stderr


def test_a_held_subscribers_entry_stops_the_cut(db: Database) -> None:
    write(db, ["1"])
    write(db, ["3,7,9"], object_type="subscriber")  # a list read that showed subscriber 7
    write(db, ["3", "4"], object_type="subscriber")
    now = at_of(db, 4) + timedelta(days=DAYS + 1)
    with db.session() as s:
        counts = AUDIT_DATA.expire(s, Expiry(now, {"audit_entries": DAYS}, frozenset({7})))
        s.commit()
    assert counts == {"audit_entries": 1}
    with db.session() as s:
        assert list(s.scalars(sa.select(AuditEntry.seq).order_by(AuditEntry.seq))) == [2, 3, 4]
        assert verify_chain(s).ok
        counts = AUDIT_DATA.expire(s, Expiry(now, {"audit_entries": DAYS}, frozenset()))
        s.commit()
    assert counts == {"audit_entries": 3}
    with db.read_session() as s:
        assert verify_chain(s).ok and verify_chain(s).checked == 0


def test_an_entry_about_a_held_subscribers_record_stops_the_cut(db: Database) -> None:
    write(db, ["1"])
    write(db, ["12"], object_type="complaint")  # a case of held subscriber 7 (the complaints part names it)
    write(db, ["3"])
    now = at_of(db, 3) + timedelta(days=DAYS + 1)
    with db.session() as s:
        counts = AUDIT_DATA.expire(s, Expiry(now, {"audit_entries": DAYS}, frozenset({7}),
                                             frozenset({("complaint", "12")})))
        s.commit()
    assert counts == {"audit_entries": 1}
    with db.read_session() as s:
        assert list(s.scalars(sa.select(AuditEntry.seq).order_by(AuditEntry.seq))) == [2, 3]
        assert verify_chain(s).ok


def test_a_broken_part_is_not_cut_away(db: Database, rt: Runtime) -> None:
    write(db, ["1", "2", "3"])
    write(db, ["4"])
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET reason = 'rewritten' WHERE seq = 2"))
    now = at_of(db, 4) + timedelta(days=DAYS)
    assert run_retention(db, rt.settings, rt.personal_data, now=now)["audit_entries"] == 0
    with db.read_session() as s:
        result = verify_chain(s)
        assert s.get(AuditCheckpoint, 1) is None
    assert not result.ok and result.broken_seq == 2  # the break stays in sight
