"""Minimisation: every GET of the OpenAPI document, called as a `viewer` over data with a complaint case, a live
session, mails and a maintenance window, answers without any personal value of the test data (SQLite and
PostgreSQL); the document marks every field the personal-data declarations name."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.capabilities import parts
from noc.core.db import Database
from noc.core.privacy import PersonalData
from noc.core.settings import Settings
from noc.live.models import LiveSession
from tests.complaints.conftest import INVENTORY, TAX
from tests.complaints.conftest import client as client
from tests.complaints.conftest import handler as handler
from tests.complaints.conftest import net as net
from tests.complaints.conftest import tokens as tokens
from tests.privacy.test_subject_rights import OTHER, lodge, plant

PERSONAL_VALUES = (*(s[f] for s in INVENTORY["subscribers"] for f in ("name", "username")), TAX,
                   "janez.novak@example.si", "+38641123456", "Počasen internet", "CALL-7", "drops at night",
                   *OTHER.values())
"""The test data's personal values: names, user names, e-mail addresses, phones, tax numbers, a complaint's text,
a live check's contact reference and reason, another subscriber's measurement id."""


def path_values(client: TestClient, admin: dict[str, str], net: Database, ids: dict[str, int],
                case: int, path: str) -> dict[str, Any]:
    """Values of ``path``'s parameters naming objects that exist (the first of the kind as the admin lists it)."""
    with net.read_session() as s:
        session_id = s.scalar(sa.select(sa.func.min(LiveSession.id)))
    values: dict[str, Any] = {"subscriber_id": ids["S-1"], "case_id": case, "session_id": session_id,
                              "cpe_id": 1, "segment_id": 1, "window_id": 1, "notice_id": 1, "ticket_id": 1,
                              "campaign_id": 1, "name": "hotspot"}
    if "{item_id}" in path:
        listed = client.get(path.split("/{item_id}")[0], headers=admin).json()
        values["item_id"] = listed["items"][0]["id"] if listed.get("items") else 1
    return values


def test_a_viewer_sees_no_personal_data_on_any_get(
        client: TestClient, net: Database, handler: dict[str, str], tokens: dict[str, str]) -> None:
    ids = plant(net)
    case = lodge(client, handler)["id"]
    admin = {"Authorization": f"Bearer {tokens['admin']}", "X-Noc-Reason": "test"}
    start = datetime.now(UTC) + timedelta(days=3)
    window = client.post("/api/v1/maintenance/windows", headers=admin, json={
        "title": "Zamenjava usmerjevalnika", "segments": ["sg-1"], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert window.status_code == 201, window.text
    viewer = {"Authorization": f"Bearer {tokens['viewer']}", "X-Noc-Reason": "test"}
    forbidden = re.compile("|".join(re.escape(v) for v in PERSONAL_VALUES if v))

    answered, refused = [], []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in operations:
            continue
        url = path.format(**path_values(client, admin, net, ids, case, path))
        answer = client.get(url, headers=viewer)
        assert answer.status_code in (200, 403, 404), f"{url}: {answer.status_code} {answer.text[:200]}"
        if answer.status_code == 403:
            refused.append(path)
            continue
        if answer.status_code == 404:  # only where nothing of that id exists for anyone
            assert client.get(url, headers=admin).status_code == 404, f"{url}: 404 to a viewer only"
        found = forbidden.search(answer.text)
        assert found is None, f"GET {url} shows a viewer {found.group(0)!r}"
        answered.append(path)
    assert {"/api/v1/subscribers", "/api/v1/subscribers/{item_id}", "/api/v1/complaints", "/api/v1/live-sessions",
            "/api/v1/subscribers/{subscriber_id}/export", "/api/v1/cpes", "/api/v1/health/cpes",
            "/api/v1/audit"} <= set(refused), refused
    assert {"/api/v1/maintenance/windows", "/api/v1/maintenance/windows/{window_id}", "/api/v1/packages",
            "/api/v1/segments", "/api/v1/capacity/now", "/api/v1/tickets"} <= set(answered), answered


def marked(schema: dict[str, Any]) -> dict[str, str]:
    """The schema's properties marked personal, with the kind each is marked with."""
    return {name: str(prop.get("x-personal-kind")) for name, prop in schema.get("properties", {}).items()
            if prop.get("x-personal") is True}


def test_the_openapi_document_marks_every_declared_personal_field(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'noc.db'}",
                        secret_key="test-secret-key-0123456789")
    schemas: dict[str, dict[str, Any]] = create_app(settings, scheduler=False).openapi()["components"]["schemas"]
    declared = {kind.name: set(kind.fields) for part in runtime_parts() for kind in part.kinds}
    for name, schema in schemas.items():
        for field, kind in marked(schema).items():
            assert field in declared.get(kind, set()), f"{name}.{field} is marked as {kind!r}, not declared there"
    for kind, fields in declared.items():
        for name, schema in schemas.items():
            properties = set(schema.get("properties", {}))
            about = kind in marked(schema).values() or len(properties & fields) >= 2
            unmarked = sorted(f for f in properties & fields if about and marked(schema).get(f) != kind)
            assert not unmarked, f"{name} holds {kind} but does not mark {unmarked} x-personal"
    subscriber_fields = declared["subscribers"]
    for name in ("SubscriberIn", "SubscriberOut", "SubscriberPatch"):  # derived models carry the marks
        assert set(marked(schemas[name])) == subscriber_fields, name
    for kind in ("complaint_cases", "live_sessions"):
        assert {f for s in schemas.values() for f, k in marked(s).items() if k == kind} == declared[kind], kind


def runtime_parts() -> list[PersonalData]:
    """Every enabled capability's personal-data part."""
    return [part for _, part in parts("privacy")]


def test_inventory_views_answer_only_the_fields_a_role_needs(
        client: TestClient, net: Database, tokens: dict[str, str]) -> None:
    def get(role: str, path: str) -> dict[str, Any]:
        answer = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}", "X-Noc-Reason": "test"})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    subscriber = get("admin", "/api/v1/subscribers?number=S-1")["items"][0]
    assert subscriber["tax_number"] == TAX
    for role in ("agent", "complaint_handler"):  # they identify callers; a release checks the number unseen
        listed = get(role, "/api/v1/subscribers?number=S-1")["items"][0]
        one = get(role, f"/api/v1/subscribers/{subscriber['id']}")
        assert listed["tax_number"] is None and one["tax_number"] is None, role
        assert listed["name"] == one["name"] == subscriber["name"]
    cpe = get("admin", "/api/v1/cpes?serial=CM0001")["items"][0]
    assert cpe["subscriber"] == "S-1" and get("agent", f"/api/v1/cpes/{cpe['id']}")["subscriber"] == "S-1"
    engineer = get("noc_engineer", "/api/v1/cpes?serial=CM0001")["items"][0]
    assert engineer["subscriber"] is None and engineer["mac"] == cpe["mac"]  # the network, not the person
    answer = client.patch(f"/api/v1/cpes/{cpe['id']}", json={"model": "TC4400-EU"},
                          headers={"Authorization": f"Bearer {tokens['noc_engineer']}"})
    assert answer.status_code == 200 and answer.json()["subscriber"] is None, answer.text
    assert get("admin", f"/api/v1/cpes/{cpe['id']}")["subscriber"] == "S-1"  # the change kept the attachment
