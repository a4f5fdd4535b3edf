"""Capacity owns its per-segment overrides: they are checked against the rules in force
(NOC_CAPACITY_RULES_FILE), and a segment whose overrides those rules refuse is skipped, never the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from noc.api import create_app
from noc.auth.service import add_user, issue_token
from noc.capacity.rules import RULES_FILE, load_rules
from noc.capacity.service import SUSTAINED, evaluate
from noc.core.db import Database
from noc.core.metrics import REGISTRY
from noc.core.security import SYSTEM, Role
from noc.core.settings import Settings
from noc.inventory.models import Segment
from tests.capacity.conftest import add_rollups

STRICTER = RULES_FILE.read_text().replace("clear_threshold: 0.65", "clear_threshold: 0.68")
"""Rules in force whose hysteresis refuses an override `sustained.threshold: 0.67` (clear must stay below)."""


@pytest.fixture
def stricter(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "rules.yaml"
    path.write_text(STRICTER)
    return settings.model_copy(update={"capacity_rules_file": path})


@pytest.fixture
def engineer(net: Database) -> dict[str, str]:
    with net.session() as s:
        token = issue_token(s, add_user(s, "eng", Role.NOC_ENGINEER, SYSTEM), SYSTEM)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(stricter: Settings, net: Database) -> Iterator[TestClient]:
    with TestClient(create_app(stricter, net, scheduler=False)) as test_client:
        yield test_client


def test_overrides_are_checked_against_the_rules_in_force(client: TestClient, engineer: dict[str, str]) -> None:
    body = {"name": "sg-9", "kind": "access", "parent": "agg-1", "rules": {"sustained": {"threshold": 0.67}}}
    refused = client.post("/api/v1/segments", json=body, headers=engineer)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "rules" and "clear_threshold (0.68)" in error["message"]
    assert client.get("/api/v1/segments?name=sg-9", headers=engineer).json()["total"] == 0
    body["rules"] = {"sustained": {"threshold": 0.69}}
    assert client.post("/api/v1/segments", json=body, headers=engineer).status_code == 201


def test_one_bad_segment_is_skipped_and_every_other_is_evaluated(
    net: Database, stricter: Settings, client: TestClient, engineer: dict[str, str]
) -> None:
    with net.session() as s:  # written when the built-in rules were in force, where it was valid
        s.execute(sa.update(Segment).where(Segment.name == "sg-1").values(rules={"sustained": {"threshold": 0.67}}))
    add_rollups(net, "sg-1", [0.9, 0.9, 0.9])
    end = add_rollups(net, "sg-2", [0.72, 0.75, 0.74])
    skipped_before = REGISTRY.get_sample_value("noc_capacity_segments_skipped_total") or 0.0
    report = evaluate(net, SUSTAINED, now=end, defaults=load_rules(stricter.capacity_rules_file))
    assert report.outcomes == {"opened": 1} and list(report.skipped) == ["sg-1"]
    assert "clear_threshold (0.68)" in report.skipped["sg-1"]
    assert (REGISTRY.get_sample_value("noc_capacity_segments_skipped_total") or 0.0) == skipped_before + 1
    tickets = client.get("/api/v1/tickets", headers=engineer).json()["items"]
    assert [t["segment"] for t in tickets] == ["sg-2"]
    now = {s["name"]: s for s in client.get("/api/v1/capacity/now", headers=engineer).json()}
    assert "clear_threshold (0.68)" in now["sg-1"]["rules_error"] and now["sg-2"]["rules_error"] is None
    report_rows = client.get("/api/v1/capacity/report", headers=engineer).json()
    assert {r["segment"] for r in report_rows if r["rules_error"]} == {"sg-1"}
