"""The audit log's hash chain: intact, altered, truncated, and under concurrent writers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from noc.audit.models import AuditEntry
from noc.audit.service import record, verify_chain
from noc.core.db import Database
from noc.core.security import SYSTEM, Actor


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
