"""Rates and segment utilization through a real Celery worker process equal the in-process poller's on the same
simulated traffic (issue 17's acceptance 4); counter state shared in Redis keeps the restart gate."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from collectors.sim import SimulatedNetwork
from collectors.sim.config import DeviceConfig, InterfaceConfig, NetworkConfig, ShapeConfig
from collectors.sinks import EmbeddedStore
from collectors.snmp.counters import CounterReading, Gap, Rate, RateKey, Reason
from collectors.snmp.values import Counter64
from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.metrics import REGISTRY
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.events import SegmentPoint, SegmentsMeasured
from noc.polling.service import Poller
from noc.scaleout.app import make_app
from noc.scaleout.rates import SharedRates
from noc.scaleout.service import Leader
from tests.scaleout.cluster import REDIS_URL, Cluster, clusters, wait_for
from tests.support.api import auth, role_tokens

COMMUNITY = "util-test"
INTERVAL_S = 8.0


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)


def test_shared_counter_state_gives_rates_across_workers_and_keeps_the_restart_gate(prefix: str) -> None:
    key = RateKey("router-1", "1", "in_bps")
    one, two, three = (SharedRates(redis.Redis.from_url(REDIS_URL), prefix) for _ in range(3))
    assert isinstance(one.update(key, CounterReading.of(Counter64(1_000), at=100.0, uptime_ticks=10_000)), Gap)
    one.save()
    two.load(["router-1"])  # another worker, the next interval: the rate from the first worker's reading
    got = two.update(key, CounterReading.of(Counter64(2_251_000), at=160.0, uptime_ticks=16_000))
    assert isinstance(got, Rate) and got.valid and got.bps == pytest.approx(2_250_000 * 8 / 60)
    two.save()
    three.load(["router-1"])  # the agent restarted in between: sysUpTime went back, so no rate
    gap = three.update(key, CounterReading.of(Counter64(50), at=220.0, uptime_ticks=300))
    assert isinstance(gap, Gap) and gap.reason is Reason.AGENT_RESTART


@pytest.fixture
def network() -> Iterator[SimulatedNetwork]:
    flat = {"kind": "flat", "noise": 0.0}
    iface = InterfaceConfig(index=1, name="uplink", speed_mbps=1000, inbound=ShapeConfig(**flat, peak=0.4),
                            outbound=ShapeConfig(**flat, peak=0.15))
    config = NetworkConfig(agents=[DeviceConfig(kind="router", name="r1", community=COMMUNITY, interfaces=[iface])])
    with SimulatedNetwork(config) as net:
        yield net


@pytest.fixture
def cluster(rt: Runtime, settings: Settings, network: SimulatedNetwork, tmp_path: Path) -> Iterator[Cluster]:
    host, port, _ = network.endpoint("r1")
    doc = {"credentials": [{"name": "sim", "version": "v2c", "community": COMMUNITY}],
           "devices": [{"name": "r1", "kind": "router", "address": host, "port": port, "credential": "sim",
                        "poller_group": "east"}],
           "segments": [{"name": "seg-r1", "kind": "core", "members": [
               {"device": "r1", "if_index": 1, "direction": "down", "counter": "in"},
               {"device": "r1", "if_index": 1, "direction": "up", "counter": "out"}]}]}
    with rt.db.session() as s:
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE),
                                                            rt.events))
    yield from clusters(tmp_path, settings.resolved_database_url(), "test-secret-key-0123456789")


def measured(poller: Poller, cycle: object) -> list[SegmentPoint]:
    points: list[SegmentPoint] = []
    poller.events.subscribe(SegmentsMeasured, lambda e: points.extend(e.points))
    for _ in range(3):  # the first reading gives no rate; two more give two rates each
        cycle()
        time.sleep(INTERVAL_S)
    return points


def test_utilization_from_celery_workers_equals_the_in_process_pollers(
        cluster: Cluster, rt: Runtime, settings: Settings, tmp_path: Path) -> None:
    scaled = settings.model_copy(update={"broker_url": SecretStr(REDIS_URL), "broker_prefix": cluster.prefix})
    cluster.start("east-1", "east")
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    local_sink, leader_sink = (EmbeddedStore(tmp_path / f"{n}.db") for n in ("local", "leader"))
    local = Poller(rt.db, settings, local_sink, box, EventBus())
    remote = Poller(rt.db, scaled, leader_sink, box, EventBus())
    app = make_app(scaled)
    leader = Leader(Runtime(scaled, rt.db), app, redis.Redis.from_url(REDIS_URL), remote)
    try:
        wait_for("the worker answering on its queue", lambda: app.control.ping(timeout=1.0), 120,
                 explain=cluster.logs)
        count = iter(range(100))
        in_process = measured(local, local.segment_cycle)
        began = time.time()
        through_celery = measured(remote, lambda: leader.segment_cycle(f"segments:test-{next(count)}"))
        # the leader's cycles count as successes for the alert on stale segment cycles, as the poller's do
        last = REGISTRY.get_sample_value("noc_poll_cycle_last_success_timestamp_seconds", {"job": "segments"})
        assert last is not None and last >= began
    finally:
        leader.release()
        for p in (local, remote):
            p.close()
        for sink in (local_sink, leader_sink):
            sink.close()
    assert len(in_process) == len(through_celery) == 4, (in_process, through_celery, cluster.logs())
    for direction, expected in (("down", 0.4), ("up", 0.15)):
        mine = [p.bps / p.capacity_bps for p in in_process if p.direction == direction]
        theirs = [p.bps / p.capacity_bps for p in through_celery if p.direction == direction]
        print(direction, "in-process", mine, "celery", theirs)
        for value in mine + theirs:  # the same flat traffic: the same utilization, whichever poller computed it
            assert value == pytest.approx(expected, rel=0.01)


def test_workers_endpoint_and_metrics(cluster: Cluster, settings: Settings, db: Database) -> None:
    tokens = role_tokens(db)
    with TestClient(create_app(settings, db, scheduler=False)) as client:  # no broker: polling is in-process
        answer = client.get("/api/v1/polling/workers", headers=auth(tokens["noc_engineer"]))
        assert answer.status_code == 409 and answer.json()["error"]["field"] == "broker_url"
    scaled = settings.model_copy(update={"broker_url": SecretStr(REDIS_URL), "broker_prefix": cluster.prefix})
    worker = cluster.start("east-1", "east")
    with TestClient(create_app(scaled, db, scheduler=False)) as client:
        def east() -> dict[str, Any] | None:
            body = client.get("/api/v1/polling/workers", headers=auth(tokens["noc_engineer"])).json()
            return next((g for g in body["groups"] if g["group"] == "east" and g["workers"]), None)

        group = wait_for("the worker listed under its group", east, 120, explain=cluster.logs)
        assert group["queue"] == f"{cluster.prefix}.poll.east" and len(group["workers"]) == 1
        assert group["cycles"] == {"segments": None, "cpes": None}  # no scheduler ran
        assert 'noc_poller_group_workers{group="east"} 1.0' in client.get("/metrics").text
        assert client.get("/api/v1/polling/workers").status_code == 401
    worker.stop()
