"""Inventory writes: upsert by natural key, references, rules, encryption at rest, audit."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from noc.audit.models import AuditEntry
from noc.audit.service import verify_chain
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.errors import NocError
from noc.core.events import EventBus
from noc.core.security import SYSTEM
from noc.inventory.importer import ImportRejected, document_rows, import_rows
from noc.inventory.kinds import CPE, CREDENTIAL, SEGMENT, SUBSCRIBER
from noc.inventory.models import Credential, Package, Segment, Subscriber
from noc.inventory.schemas import CpeIn, PackageIn, SegmentIn, SubscriberIn
from noc.inventory.service import InventoryWriter, to_input
from tests.foundation.helpers import SMALL_INVENTORY

BOX = SecretBox("test-secret-key-0123456789", "snmp-credentials")


def writer(session: Session, reason: str = "") -> InventoryWriter:
    """A writer with no other capability's checks (the inventory's own rules only)."""
    return InventoryWriter(session, SYSTEM, BOX, EventBus(), reason=reason)


def load_small(db: Database) -> None:
    with db.session() as s:
        import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), writer(s))


def test_import_then_reimport_is_idempotent(db: Database) -> None:
    with db.session() as s:
        report = import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), writer(s))
    assert report.counts["subscribers"]["created"] == 2 and report.counts["segments"]["created"] == 2
    with db.session() as s:
        audit_before = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        report = import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), writer(s))
    assert all(set(c) == {"unchanged"} for c in report.counts.values())
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audit_before
        assert verify_chain(s).ok


def test_segment_parent_given_later_in_the_file_and_members(db: Database) -> None:
    load_small(db)
    with db.session() as s:
        sg = s.scalar(sa.select(Segment).where(Segment.name == "sg-1"))
        assert sg is not None and sg.parent_id is not None
        assert [(m.direction, m.counter, m.if_index, m.if_name) for m in sg.members] == [
            ("down", "out", 1001, None), ("up", "in", None, "Cable1/0-up0")]


def test_package_speed_defaults(db: Database) -> None:
    load_small(db)
    with db.session() as s:
        pkg = s.scalar(sa.select(Package))
        assert pkg is not None
        assert (pkg.normal_download_mbps, pkg.min_download_mbps, pkg.normal_upload_mbps, pkg.min_upload_mbps) == (
            80.0, 50.0, 8.0, 5.0)


def test_credentials_are_encrypted_at_rest(db: Database) -> None:
    load_small(db)
    with db.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM snmp_credentials")) for v in row)
    assert "s3cret-community" not in raw and "authpass123" not in raw and "privpass123" not in raw
    with db.session() as s:
        cred = s.scalar(sa.select(Credential).where(Credential.name == "lab-v3"))
        assert cred is not None
        assert to_input(s, CREDENTIAL, cred, BOX)["priv_key"] == "privpass123"
        with pytest.raises(Exception, match="cannot be decrypted"):
            SecretBox("another-key-xxxxxxxxxxxx", "snmp-credentials").open(cred.sealed)


def test_update_changes_only_what_differs_and_is_audited(db: Database) -> None:
    load_small(db)
    with db.session() as s:
        moved = writer(s, reason="moved")
        sub = s.scalar(sa.select(Subscriber).where(Subscriber.number == "S-1"))
        assert sub is not None
        moved.patch(SUBSCRIBER, sub, {"phone": "+386 40 999 999", "notification_opt_outs": ["maintenance"]})
    with db.session() as s:
        entry = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.action == "subscriber.update" and entry.reason == "moved"
        assert '"changed":["notification_opt_outs","phone"]' in entry.details
        assert "+386 40" not in entry.details  # personal values stay out of the audit log


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        (CPE, {"serial": "X1", "mac": "00:11:22:33:44:55", "model": "m", "subscriber": "S-404"}, "subscriber"),
        (CPE, {"serial": "X2", "mac": "00:11:22:33:44:56", "model": "m", "segment": "agg-1"}, "segment"),
        (CPE, {"serial": "X3", "mac": "aa:bb:cc:00:00:01", "model": "m"}, "mac"),
        (SUBSCRIBER, {"number": "S-9", "username": "jnovak", "name": "Someone"}, "username"),
        (SEGMENT, {"name": "agg-1", "kind": "aggregation", "parent": "sg-1"}, "parent"),
        (SEGMENT, {"name": "sg-2", "kind": "access", "members": [{"device": "nope", "if_index": 1,
                                                                    "direction": "up"}]}, "members.0.device"),
    ],
)
def test_rule_violations_name_the_field_and_write_nothing(
    db: Database, kind: object, data: dict[str, object], field: str
) -> None:
    load_small(db)
    schema = {CPE: CpeIn, SUBSCRIBER: SubscriberIn, SEGMENT: SegmentIn}[kind]  # type: ignore[index]
    with db.session() as s:
        before = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        with pytest.raises(NocError) as caught:
            writer(s).upsert(kind, schema.model_validate(data))  # type: ignore[arg-type]
        assert caught.value.field == field
        s.rollback()
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == before


def test_failed_import_writes_nothing(db: Database) -> None:
    doc = copy.deepcopy(SMALL_INVENTORY)
    doc["cpes"].append({"serial": "CM0002", "mac": "zz", "model": "m"})
    with pytest.raises(ImportRejected) as caught, db.session() as s:
        import_rows(document_rows("t", doc), writer(s))
    assert [str(e) for e in caught.value.report.errors] == [
        "t cpes[2]: field 'mac': not a MAC address (12 hex digits)"]
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_package_rejects_minimum_above_normal() -> None:
    with pytest.raises(ValueError, match="min_download_mbps"):
        PackageIn(code="p", name="P", download_mbps=100, upload_mbps=10, min_download_mbps=90)
