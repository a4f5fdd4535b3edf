"""Tickets, maintenance windows and the capacity report over HTTP."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.capacity.service import SUSTAINED, evaluate
from noc.core.db import Database
from noc.core.settings import Settings
from tests.capacity.conftest import T0, add_rollups
from tests.support.api import auth, role_tokens


@pytest.fixture
def client(settings: Settings, net: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, net, scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def tokens(net: Database) -> dict[str, str]:
    return role_tokens(net)


def test_ticket_list_get_chart_and_transitions(client: TestClient, tokens: dict[str, str], net: Database) -> None:
    end = add_rollups(net, "sg-1", [0.72, 0.75, 0.74])
    evaluate(net, SUSTAINED, now=end)
    viewer, engineer = auth(tokens["viewer"]), auth(tokens["noc_engineer"])
    listed = client.get("/api/v1/tickets?state=open", headers=viewer).json()
    assert listed["total"] == 1
    ticket = listed["items"][0]
    assert ticket["segment"] == "sg-1" and len(ticket["evidence"]) == 3
    chart = client.get(ticket["chart"], headers=viewer)
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(chart.text)
    assert "70 %" in chart.text
    path = f"/api/v1/tickets/{ticket['id']}/transitions"
    assert client.post(path, json={"state": "acknowledged"}, headers=viewer).status_code == 403
    bad = client.post(path, json={"state": "resolved"}, headers=engineer)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "new_capacity_mbps"
    done = client.post(path, json={"state": "resolved", "new_capacity_mbps": 3200}, headers=engineer)
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    assert client.get("/api/v1/tickets?state=open", headers=viewer).json()["total"] == 0
    segment = client.get("/api/v1/segments?name=sg-1", headers=viewer).json()["items"][0]
    assert segment["capacity_down_mbps"] == 3200


def test_maintenance_windows_api(client: TestClient, tokens: dict[str, str]) -> None:
    engineer = auth(tokens["noc_engineer"])
    body = {"title": "Node split Maribor", "starts_at": (T0 + timedelta(days=3)).isoformat(),
            "ends_at": (T0 + timedelta(days=3, hours=4)).isoformat(), "segments": ["sg-1"], "reason": "capacity"}
    assert client.post("/api/v1/maintenance/windows", json=body, headers=auth(tokens["viewer"])).status_code == 403
    created = client.post("/api/v1/maintenance/windows", json=body, headers=engineer)
    assert created.status_code == 201 and created.json()["segments"] == ["sg-1"]
    wrong = client.post("/api/v1/maintenance/windows", json={**body, "segments": ["nope"]}, headers=engineer)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "segments.0"
    backwards = client.post("/api/v1/maintenance/windows", json={**body, "ends_at": body["starts_at"]},
                            headers=engineer)
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "ends_at"
    naive = client.post("/api/v1/maintenance/windows", json={**body, "starts_at": "2026-12-01T10:00:00"},
                        headers=engineer)
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "starts_at"
    window_id = created.json()["id"]
    listed = client.get("/api/v1/maintenance/windows?segment=sg-1", headers=auth(tokens["viewer"])).json()
    assert [w["id"] for w in listed["items"]] == [window_id]
    cancelled = client.post(f"/api/v1/maintenance/windows/{window_id}/cancel", headers=engineer)
    assert cancelled.json()["cancelled_at"] is not None


def test_capacity_report_json_and_csv(client: TestClient, tokens: dict[str, str], net: Database) -> None:
    headers = auth(tokens["viewer"])
    rows = client.get("/api/v1/capacity/report", headers=headers).json()
    assert {(r["segment"], r["direction"]) for r in rows} == {
        (s, d) for s in ("agg-1", "sg-1", "sg-2") for d in ("down", "up")}
    response = client.get("/api/v1/capacity/report?format=csv", headers=headers)
    assert response.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert len(parsed) == 6 and set(parsed[0]) >= {"segment", "busy_hour_p95", "forecast_date", "open_tickets"}
    bad = client.get("/api/v1/capacity/report?format=xml", headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "format"
