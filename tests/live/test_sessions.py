"""Opening, listing and closing live sessions through the API: identification, consent, refusals (each audited),
limits, expiry; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.audit.models import AuditEntry
from noc.audit.service import parse_details, verify_chain
from noc.core.db import Database, utcnow
from noc.core.errors import InvalidInput
from noc.core.settings import Settings
from noc.live.models import LiveSession
from noc.live.service import e164, expire_cycle, same_number
from tests.support.api import auth

GOOD = {"subscriber": "S-1", "caller_number": "041 123 456", "contact_ref": "CALL-1", "reason": "slow internet",
        "consent": True}


@pytest.fixture
def client(settings: Settings, net: Database) -> Any:
    with TestClient(create_app(settings, net, scheduler=False)) as test_client:
        yield test_client


def audit(db: Database, action: str) -> list[AuditEntry]:
    with db.read_session() as s:
        return list(s.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


@pytest.mark.parametrize("written", ["041 123 456", "+386 41 123 456", "00386 41 123 456", "+38641123456",
                                     "041/123-456"])
def test_slovenian_numbers_compare_in_e164(written: str) -> None:
    assert e164(written) == "+38641123456"
    assert same_number(written, "+386 41 123 456")


def test_other_numbers_do_not_match() -> None:
    assert not same_number("041 123 457", "+386 41 123 456")
    assert not same_number("+44 20 7946 0958", "+386 41 123 456")
    assert not same_number("041 123 456", "")
    with pytest.raises(InvalidInput) as raised:
        e164("not a number")
    assert raised.value.field == "caller_number"


def test_an_agent_opens_a_session_for_an_identified_caller(client: TestClient, net: Database,
                                                           tokens: dict[str, str]) -> None:
    opened = client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens["agent"]))
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["cpe"] == "CM-FINE" and body["state"] == "open" and body["subscriber"] == "S-1"
    assert body["stream_url"] == f"/api/v1/live-sessions/{body['id']}/stream"
    listed = client.get("/api/v1/live-sessions?state=open", headers=auth(tokens["agent"])).json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/live-sessions?state=open", headers=auth(tokens["admin"])).json()["total"] == 1
    (entry,) = audit(net, "live.open")
    details = parse_details(entry)
    assert (entry.actor, entry.reason) == ("u-agent", "slow internet")
    assert details == {"agent": "u-agent", "subscriber": "S-1", "cpe": "CM-FINE", "contact_ref": "CALL-1",
                       "expires_at": details["expires_at"]}
    # never the caller's number, in any form (the timestamp's digits may hold "123": look at the other values)
    said = " ".join(str(v) for k, v in details.items() if k != "expires_at")
    assert not any(part in said for part in ("123", "386", "456")) and "123 456" not in entry.details
    with net.read_session() as s:
        live = s.get(LiveSession, body["id"])
        assert live is not None and live.caller_number == "+38641123456"
        assert timedelta(minutes=29) < live.expires_at - live.opened_at <= timedelta(minutes=30)


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"caller_number": "041 123 457"}, 403, "caller_not_identified", "caller_number"),
    ({"caller_number": "+44 20 7946 0958"}, 403, "caller_not_identified", "caller_number"),
    ({"consent": False}, 422, "invalid", "consent"),
    ({"subscriber": "S-404"}, 404, "not_found", "subscriber"),
    ({"subscriber": "S-3"}, 403, "caller_not_identified", "caller_number"),
    ({"contact_ref": " "}, 422, "invalid", "contact_ref"),
    ({"minutes": 121}, 422, "invalid", "minutes"),
    ({"subscriber": "mhorvat", "caller_number": "040 555 010"}, 422, "invalid", "cpe"),
    ({"subscriber": "S-2", "caller_number": "040 555 010", "cpe": "CM-FINE"}, 404, "not_found", "cpe"),
])
def test_refusals_name_the_reason_and_are_audited(client: TestClient, net: Database, tokens: dict[str, str],
                                                   change: dict[str, Any], status: int, code: str, field: str) -> None:
    refused = client.post("/api/v1/live-sessions", json={**GOOD, **change}, headers=auth(tokens["agent"]))
    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code and refused.json()["error"]["field"] == field
    (entry,) = audit(net, "live.refuse")
    assert entry.actor == "u-agent" and parse_details(entry)["refusal"] == code
    assert parse_details(entry)["contact_ref"] == GOOD["contact_ref"] or change.get("contact_ref")
    with net.read_session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LiveSession)) == 0
        assert verify_chain(s).ok


def test_roles_and_ownership(client: TestClient, tokens: dict[str, str]) -> None:
    for role in ("viewer", "noc_engineer", "complaint_handler"):
        assert client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens[role])).status_code == 403
    assert client.post("/api/v1/live-sessions", json=GOOD).status_code == 401
    live = client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens["admin"])).json()
    assert client.get(f"/api/v1/live-sessions/{live['id']}", headers=auth(tokens["agent"])).status_code == 403
    assert client.get(f"/api/v1/live-sessions/{live['id']}/stream",
                      headers=auth(tokens["agent"])).status_code == 403
    assert client.get(f"/api/v1/live-sessions/{live['id']}", headers=auth(tokens["admin"])).status_code == 200


def test_one_session_per_cpe_per_agent_and_the_cap(client: TestClient, settings: Settings, net: Database,
                                                   tokens: dict[str, str]) -> None:
    assert client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens["agent"])).status_code == 201
    again = client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens["agent"]))
    assert again.status_code == 409 and again.json()["error"]["field"] == "cpe"
    capped = settings.model_copy(update={"live_max_sessions": 1})
    with TestClient(create_app(capped, net, scheduler=False)) as small:
        full = small.post("/api/v1/live-sessions", json={**GOOD, "minutes": 5}, headers=auth(tokens["admin"]))
    assert full.status_code == 429 and full.json()["error"]["code"] == "too_many_sessions"
    assert [parse_details(e)["refusal"] for e in audit(net, "live.refuse")] == ["conflict", "too_many_sessions"]


def test_closing_needs_a_note(client: TestClient, net: Database, tokens: dict[str, str]) -> None:
    live = client.post("/api/v1/live-sessions", json=GOOD, headers=auth(tokens["agent"])).json()
    for body in ({}, {"note": ""}, {"note": "   "}):
        refused = client.post(f"/api/v1/live-sessions/{live['id']}/close", json=body, headers=auth(tokens["agent"]))
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "note", refused.text
    closed = client.post(f"/api/v1/live-sessions/{live['id']}/close", json={"note": "splitter replaced"},
                         headers=auth(tokens["agent"]))
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["note"]
    again = client.post(f"/api/v1/live-sessions/{live['id']}/close", json={"note": "x"}, headers=auth(tokens["agent"]))
    assert again.status_code == 409
    assert client.get(f"/api/v1/live-sessions/{live['id']}/stream", headers=auth(tokens["agent"])).status_code == 409
    (entry,) = audit(net, "live.close")
    assert entry.actor == "u-agent" and parse_details(entry)["contact_ref"] == "CALL-1"


def test_an_expired_session_is_closed_and_the_audit_says_so(client: TestClient, net: Database,
                                                            tokens: dict[str, str]) -> None:
    live = client.post("/api/v1/live-sessions", json={**GOOD, "minutes": 1}, headers=auth(tokens["agent"])).json()
    assert expire_cycle(net) == 0
    with net.session() as s:
        s.execute(sa.update(LiveSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert expire_cycle(net) == 1
    assert expire_cycle(net) == 0
    shown = client.get(f"/api/v1/live-sessions/{live['id']}", headers=auth(tokens["agent"])).json()
    assert shown["state"] == "expired" and shown["closed_at"] is not None
    (entry,) = audit(net, "live.expire")
    assert (entry.actor, entry.reason, entry.object_id) == ("system", "session expired", str(live["id"]))
    assert parse_details(entry)["subscriber"] == "S-1"
    assert client.get("/api/v1/live-sessions?state=open", headers=auth(tokens["agent"])).json()["total"] == 0
    assert client.post(f"/api/v1/live-sessions/{live['id']}/close", json={"note": "late"},
                       headers=auth(tokens["agent"])).status_code == 409
