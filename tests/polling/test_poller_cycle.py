"""A whole poll cycle against a real snmpd: sink, poll status, rollups, API and /metrics, on both databases."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from collectors.sinks import EmbeddedStore
from noc.api import create_app
from noc.auth.service import add_user, issue_token
from noc.capacity.rollups import store
from noc.capacity.service import RollupKeeper
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.security import SYSTEM, Role
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.events import SegmentsMeasured
from noc.polling.service import Poller
from tests.polling.test_poll_snmpd import loopback_traffic
from tests.support.snmpd import COMMUNITY, Agent


def dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def keeper(db: Database) -> RollupKeeper:
    """Capacity's subscriber to the poller's measurements (the test closes its rollup periods early)."""
    return RollupKeeper(db, 60)


@pytest.fixture
def poller(
    db: Database, settings: Settings, snmpd: Agent, keeper: RollupKeeper, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Poller]:
    settings = settings.model_copy(update={"snmp_timeout_s": 0.3, "snmp_retries": 0, "rollup_period_s": 60})
    box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
    doc = {
        "credentials": [{"name": "lab", "version": "v2c", "community": COMMUNITY}],
        "devices": [{"name": "router-1", "kind": "router", "address": "127.0.0.1", "port": snmpd.port,
                     "credential": "lab"},
                    {"name": "router-dead", "kind": "router", "address": "127.0.0.1", "port": dead_port(),
                     "credential": "lab"}],
        "segments": [{"name": "core-lo", "kind": "core", "capacity_down_mbps": 100000, "capacity_up_mbps": 100000,
                      "members": [{"device": "router-1", "if_index": 1, "direction": "down", "counter": "in"},
                                  {"device": "router-1", "if_name": "lo", "direction": "up", "counter": "out"}]},
                     {"name": "dead-seg", "kind": "core",
                      "members": [{"device": "router-dead", "if_index": 1, "direction": "down"}]}],
    }
    with db.session() as s:
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, box, EventBus()))
    sink = EmbeddedStore(tmp_path_factory.mktemp("series") / "series.db")
    events = EventBus()
    events.subscribe(SegmentsMeasured, keeper)
    p = Poller(db, settings, sink, box, events)
    yield p
    p.close()
    sink.close()


def test_segment_cycle_end_to_end(poller: Poller, keeper: RollupKeeper, db: Database, settings: Settings) -> None:
    first = poller.segment_cycle()
    assert (first.targets, first.ok, first.failed) == (2, 1, 1)
    assert first.segment_points == 0  # no rate from a single reading
    loopback_traffic(20)
    time.sleep(6)  # snmpd caches interface counters for a few seconds
    second = poller.segment_cycle()
    assert second.segment_points == 2 and second.withheld == {"member_missing": 1}
    store_ = poller.sink
    assert isinstance(store_, EmbeddedStore)
    store_.flush(timeout=5)
    last = store_.last("segment", {"segment": "core-lo", "direction": "down"})
    assert last is not None and 0 < float(last.fields["utilization"]) < 1
    assert store_.last("interface", {"device": "router-1", "ifindex": "1"}) is not None
    with db.session() as s:
        stored = store(s, keeper.buffer.close(2**40))
    assert stored == 2

    with db.session() as s:
        token = issue_token(s, add_user(s, "eng", Role.NOC_ENGINEER, SYSTEM), SYSTEM)
    with TestClient(create_app(settings, db, scheduler=False)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        status = client.get("/api/v1/polling/status?kind=device", headers=headers).json()
        by_name = {i["name"]: i for i in status["items"]}
        assert by_name["router-1"]["ok"] is True and by_name["router-1"]["consecutive_failures"] == 0
        dead = by_name["router-dead"]
        assert dead["ok"] is False and dead["consecutive_failures"] == 2 and "no response" in dead["error"]
        assert COMMUNITY not in str(status)
        failing = client.get("/api/v1/polling/status?kind=device&ok=false", headers=headers).json()
        assert [i["name"] for i in failing["items"]] == ["router-dead"]
        segments = client.get("/api/v1/segments?name=core-lo", headers=headers).json()["items"]
        util = client.get(f"/api/v1/segments/{segments[0]['id']}/utilization", headers=headers).json()
        assert {r["direction"] for r in util["rollups"]} == {"down", "up"}
        assert all(0 < r["p95"] < 1 and r["points"] == 1 for r in util["rollups"])
        text = client.get("/metrics").text
        assert 'noc_poll_errors_total{error="timeout",job="segments"}' in text
        assert "noc_snmp_requests" in text and COMMUNITY not in text
