"""What notices read from the inventory (subscribers under segments, with running contracts) and the one thing
they write (an opt-out), on SQLite and PostgreSQL; and the signatures of opt-out links."""

from __future__ import annotations

import copy
import json
from datetime import date

import sqlalchemy as sa

from noc.audit.models import AuditEntry
from noc.audit.service import verify_chain
from noc.core.crypto import Signer
from noc.core.db import Database
from noc.core.security import Actor
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Segment, Subscriber
from noc.inventory.service import counts_by_segment, opt_out, subscribers_on, subtree
from noc.maintenance.optout import make_token, read_token
from tests.foundation.helpers import SMALL_INVENTORY
from tests.foundation.test_inventory import writer
from tests.support.threads import together

LINK = Actor("subscriber:S-1", "subscriber")


def load(db: Database) -> None:
    doc = copy.deepcopy(SMALL_INVENTORY)
    doc["subscribers"].append({"number": "S-3", "username": "kkos", "name": "Katja Kos", "email": "k@example.si"})
    doc["contracts"] += [{"subscriber": "S-2", "package": "cable-100", "start_date": "2024-03-01",
                          "end_date": "2024-03-31"},
                         {"subscriber": "S-3", "package": "cable-100", "start_date": "2024-01-01"}]
    doc["cpes"] += [
        {"serial": "CM0002", "mac": "AA-BB-CC-00-00-02", "model": "TC4400", "subscriber": "S-1", "segment": "sg-1"},
        {"serial": "CM0003", "mac": "AA-BB-CC-00-00-03", "model": "TC4400", "subscriber": "S-2", "segment": "sg-1"},
        {"serial": "CM0004", "mac": "AA-BB-CC-00-00-04", "model": "TC4400", "subscriber": "S-3"},  # no segment
    ]
    with db.session() as s:
        import_rows(document_rows("t", doc), writer(s))


def ids(db: Database, *names: str) -> set[int]:
    with db.session() as s:
        return set(s.scalars(sa.select(Segment.id).where(Segment.name.in_(names))))


def numbers_on(db: Database, on: date) -> list[tuple[str, bool]]:
    top = ids(db, "agg-1")
    with db.session() as s:
        query = subscribers_on(subtree(s, top), on, "maintenance")
        return [(r.number, r.opted_out) for r in s.execute(query.order_by(Subscriber.number))]


def test_subscribers_on_segments_have_a_running_contract_and_appear_once(db: Database) -> None:
    load(db)
    top, below, both = ids(db, "agg-1"), ids(db, "sg-1"), ids(db, "agg-1", "sg-1")
    with db.session() as s:
        assert subtree(s, top) == both and subtree(s, below) == below
    assert numbers_on(db, date(2023, 12, 31)) == []
    assert numbers_on(db, date(2024, 1, 1)) == [("S-1", False)]  # two CPEs, one row
    assert numbers_on(db, date(2024, 3, 1)) == [("S-1", False), ("S-2", True)]  # first and last day count
    assert numbers_on(db, date(2024, 3, 31)) == [("S-1", False), ("S-2", True)]
    assert numbers_on(db, date(2024, 4, 1)) == [("S-1", False)]
    with db.session() as s:
        counts = counts_by_segment(s, below, date(2024, 3, 1), "maintenance")
        assert list(counts.values()) == [{"subscribers": 2, "opted_out": 1, "no_email": 0}]


def test_an_opt_out_is_written_once_audited_also_when_two_arrive_together(db: Database) -> None:
    load(db)
    with db.session() as s:
        subscriber_id = int(s.scalar(sa.select(Subscriber.id).where(Subscriber.number == "S-1")))  # type: ignore[arg-type]

    def click(_: int) -> bool:
        with db.session() as s:
            return opt_out(s, subscriber_id, "network_issues", LINK, via="optout-link")

    assert sorted(together(click, 2)) == [False, True]
    with db.session() as s:
        assert [o.category for o in s.get(Subscriber, subscriber_id).opt_outs] == ["network_issues"]  # type: ignore[union-attr]
        entries = s.scalars(sa.select(AuditEntry).where(AuditEntry.actor == LINK.name)).all()
        assert [(e.action, json.loads(e.details)["changed"]) for e in entries] == [("subscriber.update",
                                                                       ["notification_opt_outs"])]
        assert verify_chain(s).ok


def test_opt_out_tokens_are_signed_and_name_subscriber_and_category() -> None:
    signer, other = Signer("key-one-0123456789", "links"), Signer("key-two-0123456789", "links")
    token = make_token(signer, 1234, "network_issues")
    assert read_token(signer, token) == (1234, "network_issues")
    assert make_token(signer, 1234, "network_issues") == token  # the same link in every notice
    assert read_token(other, token) is None  # another secret key
    assert read_token(Signer("key-one-0123456789", "other purpose"), token) is None
    assert make_token(signer, 1235, "network_issues") != token and len(token) <= 40
    for damaged in (token[:-1], token + "A", ("B" if token[0] == "A" else "A") + token[1:], "", "%%%", token.upper()):
        assert read_token(signer, damaged) is None
