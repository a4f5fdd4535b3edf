"""Correction: a change of a subscriber's personal fields is audited with the changed field names and keyed hashes
of the old and new values, never the values (over the API, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.audit.models import AuditEntry
from noc.audit.service import parse_details, value_hash, verify_chain
from noc.core.db import Database
from noc.core.settings import Settings
from tests.complaints.conftest import TAX
from tests.complaints.conftest import client as client
from tests.complaints.conftest import ids as subscriber_ids
from tests.complaints.conftest import net as net
from tests.complaints.conftest import tokens as tokens
from tests.foundation.test_cli import noc

NEW = {"name": "Janez Novak", "phone": "+386 41 999 888", "email": "janez.novak@example.si", "tax_number": "12345679"}
"""The corrected values (12345679 is a valid tax number: its check digit holds)."""


def entries(db: Database, action: str) -> list[AuditEntry]:
    with db.read_session() as s:
        return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_correction_is_audited_with_keyed_hashes_of_old_and_new_values(
        client: TestClient, net: Database, settings: Settings, tokens: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {tokens['admin']}", "X-Noc-Reason": "subscriber's correction request C-4"}
    subscriber = subscriber_ids(net)["S-1"]
    answer = client.patch(f"/api/v1/subscribers/{subscriber}", headers=admin, json={**NEW, "language": "en"})
    assert answer.status_code == 200, answer.text

    (update,) = entries(net, "subscriber.update")
    details = parse_details(update)
    assert update.reason == "subscriber's correction request C-4"
    assert details["changed"] == ["email", "language", "name", "phone", "tax_number"]
    assert sorted(details["personal"]) == ["email", "name", "phone", "tax_number"]  # language is no identity
    old = {"name": "Janez Novak Žagar", "phone": "", "email": "", "tax_number": TAX}
    with net.read_session() as s:
        for field, value in NEW.items():
            assert details["personal"][field] == {"old": value_hash(s, old[field]), "new": value_hash(s, value)}
        assert value_hash(s, "Janez") != value_hash(s, "janez")  # exact values: a change of case shows
        assert verify_chain(s).ok
        log = json.dumps([[e.reason, e.details, e.object_id] for e in s.scalars(sa.select(AuditEntry))],
                         ensure_ascii=False)
    auditor = noc(settings, "audit", "term", "--changed", NEW["phone"], check=True).stdout.strip()
    assert auditor == details["personal"]["phone"]["new"]  # an auditor checks a value without the log holding it
    for value in (*NEW.values(), *old.values(), "+38641999888", "Žagar"):
        if value:
            assert value not in log, f"the audit log holds {value!r} in clear"

    created = client.post("/api/v1/subscribers", headers=admin, json={
        "number": "S-3", "username": "nnovi", "name": "New One", "email": "new.one@example.si"})
    assert created.status_code == 201, created.text
    (create,) = [e for e in entries(net, "subscriber.create") if e.object_id == str(created.json()["id"])]
    personal = parse_details(create)["personal"]
    with net.read_session() as s:
        assert personal["email"] == {"new": value_hash(s, "new.one@example.si")}
    assert "New One" not in create.details and "new.one@example.si" not in create.details

    unchanged = client.patch(f"/api/v1/subscribers/{subscriber}", headers=admin, json={"phone": NEW["phone"]})
    assert unchanged.status_code == 200 and len(entries(net, "subscriber.update")) == 1  # nothing changed
