"""The HTTP API in-process against a real database: auth, roles, errors, inventory, audit of reads."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.auth.service import add_user, issue_token
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.security import SYSTEM, Role
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from tests.foundation.helpers import SMALL_INVENTORY, VALID_TAX


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with db.session() as s:
        box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
        import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), InventoryWriter(s, SYSTEM, box, EventBus()))
    with TestClient(create_app(settings, db, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def tokens(db: Database) -> dict[str, str]:
    out = {}
    with db.session() as s:
        for role in Role:
            out[role.value] = issue_token(s, add_user(s, f"u-{role.value}", role, SYSTEM), SYSTEM)
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_401_403_200(client: TestClient, tokens: dict[str, str]) -> None:
    missing = client.get("/api/v1/subscribers")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthenticated"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.get("/api/v1/subscribers", headers=auth("noc_not-a-real-token"))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_token"
    viewer = client.get("/api/v1/subscribers", headers=auth(tokens["viewer"]))
    assert viewer.status_code == 403
    assert viewer.json()["error"]["message"].startswith("role 'viewer' may not do this")
    admin = client.get("/api/v1/subscribers", headers=auth(tokens["admin"]))
    assert admin.status_code == 200 and admin.json()["total"] == 2


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/subscribers", {"admin", "agent", "complaint_handler"}),
        ("/api/v1/contracts", {"admin", "agent", "complaint_handler"}),
        ("/api/v1/cpes", {"admin", "noc_engineer", "agent", "complaint_handler"}),
        ("/api/v1/credentials", {"admin", "noc_engineer"}),
        ("/api/v1/segments", {"admin", "noc_engineer", "agent", "complaint_handler", "viewer"}),
        ("/api/v1/audit", {"admin"}),
    ],
)
def test_each_endpoint_admits_its_roles(client: TestClient, tokens: dict[str, str], path: str,
                                        allowed: set[str]) -> None:
    got = {role for role, token in tokens.items() if client.get(path, headers=auth(token)).status_code == 200}
    assert got == allowed


def test_viewer_sees_network_but_no_personal_data(client: TestClient, tokens: dict[str, str]) -> None:
    segments = client.get("/api/v1/segments", headers=auth(tokens["viewer"])).json()
    assert {s["name"] for s in segments["items"]} == {"sg-1", "agg-1"}
    assert client.get("/api/v1/cpes", headers=auth(tokens["viewer"])).status_code == 403


def test_validation_errors_name_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    body = {"number": "S-3", "username": "new", "name": "New One", "email": "nope"}
    response = client.post("/api/v1/subscribers", json=body, headers=auth(tokens["admin"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "email" and error["code"] == "invalid"
    bad_page = client.get("/api/v1/segments?limit=0", headers=auth(tokens["admin"]))
    assert bad_page.status_code == 422 and bad_page.json()["error"]["field"] == "limit"
    unknown = client.get("/api/v1/segments?colour=red", headers=auth(tokens["admin"]))
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "colour"


def test_create_get_patch_and_conflict(client: TestClient, tokens: dict[str, str], db: Database) -> None:
    admin = auth(tokens["admin"])
    body = {"number": "S-3", "username": "new", "name": "New One", "tax_number": VALID_TAX}
    created = client.post("/api/v1/subscribers", json=body, headers=admin)
    assert created.status_code == 201
    sub_id = created.json()["id"]
    again = client.post("/api/v1/subscribers", json=body, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["field"] == "number"
    patched = client.patch(f"/api/v1/subscribers/{sub_id}", json={"language": "en"}, headers=admin)
    assert patched.status_code == 200 and patched.json()["language"] == "en"
    renamed = client.patch(f"/api/v1/subscribers/{sub_id}", json={"number": "S-4"}, headers=admin)
    assert renamed.status_code == 422 and renamed.json()["error"]["field"] == "number"
    taken = client.patch(f"/api/v1/subscribers/{sub_id}", json={"username": "jnovak"}, headers=admin)
    assert taken.status_code == 422 and taken.json()["error"]["field"] == "username"
    missing = client.get("/api/v1/subscribers/9999", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    with db.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions.count("subscriber.create") == 3 and actions.count("subscriber.update") == 1


def test_agent_cannot_write_subscribers(client: TestClient, tokens: dict[str, str]) -> None:
    body = {"number": "S-3", "username": "new", "name": "New One"}
    response = client.post("/api/v1/subscribers", json=body, headers=auth(tokens["agent"]))
    assert response.status_code == 403


def test_filters_and_paging(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    page = client.get("/api/v1/subscribers?limit=1&offset=1", headers=admin).json()
    assert page["total"] == 2 and [s["number"] for s in page["items"]] == ["S-2"]
    found = client.get("/api/v1/subscribers?q=novak", headers=admin).json()
    assert [s["number"] for s in found["items"]] == ["S-1"]
    cpes = client.get("/api/v1/cpes?segment=sg-1", headers=admin).json()
    assert [c["serial"] for c in cpes["items"]] == ["CM0001"] and cpes["items"][0]["subscriber"] == "S-1"
    access = client.get("/api/v1/segments?kind=access", headers=admin).json()
    assert [s["name"] for s in access["items"]] == ["sg-1"]


def test_personal_reads_are_audited_with_reason(client: TestClient, tokens: dict[str, str], db: Database) -> None:
    client.get("/api/v1/subscribers/1", headers={**auth(tokens["agent"]), "X-Noc-Reason": "call 4711"})
    with db.session() as s:
        entry = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.actor, entry.role, entry.object_id, entry.reason) == (
        "subscriber.read", "u-agent", "agent", "1", "call 4711")


def test_credentials_never_show_secrets(client: TestClient, tokens: dict[str, str]) -> None:
    admin = auth(tokens["admin"])
    listed = client.get("/api/v1/credentials", headers=admin)
    assert "s3cret-community" not in listed.text and "authpass123" not in listed.text
    body = {"name": "new-v2c", "version": "v2c", "community": "another-secret"}
    created = client.post("/api/v1/credentials", json=body, headers=admin)
    assert created.status_code == 201 and "another-secret" not in created.text
    changed = client.patch(f"/api/v1/credentials/{created.json()['id']}", json={"community": "rotated-secret"},
                           headers=admin)
    assert changed.status_code == 200 and "rotated-secret" not in changed.text


def test_unknown_route_uses_the_error_format(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_openapi_documents_the_error_format(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "ErrorOut" in spec["components"]["schemas"]
    assert "403" in spec["paths"]["/api/v1/subscribers"]["get"]["responses"]
