"""Scaled-out polling when processes die (issue 17's acceptance 2 and 3), with real `noc worker` processes, the
simulator, Redis and PostgreSQL: a poller-group worker SIGKILLed with CPE batches in hand (one, or several when it
polls several at once) or with a segment batch in hand has them polled by another worker of its group in the
same cycle, nothing stored twice; a batch the broker lost is sent again in its cycle; a killed scheduler leader
is replaced within one segment interval and no cycle starts twice. The fleet's size: test_cluster.py."""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collectors.sinks import EmbeddedStore
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Device
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.scaleout.app import broker_key
from noc.scaleout.state import SharedState, queue_of
from tests.scaleout.cluster import (
    Cluster,
    Node,
    check_cycle,
    finished_cycle,
    fresh_interval,
    group_of,
    launch,
    progress,
    wait_for,
)

CPES, AGENTS, BATCH = 1000, 100, 50
ANSWERED = 0.5
"""Of the CPEs, at least this share answers in time: a machine loaded by parallel tests makes the simulator slow;
what these tests check is that every CPE is polled and stored once (test_cluster.py asks 90 %)."""
VISIBILITY_S = 20
"""A batch taken by a worker that died is polled again this long (and at most 2 s more) after it was taken."""
CPE_S = 120
"""At least this long between CPE cycles: the killed worker's cycle ends before the next starts, even when loaded."""
SEGMENT_S = 40
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
Launch = Callable[..., Cluster]


@pytest.fixture
def silent() -> Iterator[tuple[str, int]]:
    """A UDP port on loopback that takes requests and never answers: a CPE or device that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
        yield str(host), int(port)


@pytest.fixture
def fleet(rt: Runtime, settings: Settings, tmp_path: Path) -> Iterator[Launch]:
    """Starts the simulator with ``agents`` CPE agents and a cluster of ``cpes`` CPEs (more settings as keywords);
    stops them afterwards."""
    with ExitStack() as stack:
        def start(cpes: int, silent: tuple[str, int] | None = None, agents: int = AGENTS, **env: str) -> Cluster:
            return stack.enter_context(launch(rt, settings, tmp_path, cpes, agents, silent,
                                              noc_broker_visibility_timeout_s=str(VISIBILITY_S), **env))

        yield start


def fresh_tasks(cluster: Cluster, nodes: list[Node], task: str, ready: Callable[[], bool] = lambda: True,
                slots: int = 1) -> Callable[[], tuple[Node, list[dict[str, Any]]] | None]:
    """A check for :func:`wait_for`: once ``ready()``, the first of ``nodes`` seen running a ``task`` it was not
    running at the previous look, and ``slots`` tasks in all, with every task it runs. A task seen first has
    started since that look, so it is far from done when each takes the SNMP timeout (its batch holds a device
    that never answers); with every slot busy the worker is fetching no batch (Kombu's Redis transport takes a
    batch off its queue before it notes it as unacknowledged: a worker killed in between loses that batch)."""
    seen: dict[str, set[str]] = {}

    def look() -> tuple[Node, list[dict[str, Any]]] | None:
        if not ready():
            return None
        for node in nodes:
            held = cluster.in_hand(node)
            ids = {t["id"] for t in held if t["name"] == task}
            new, looked = ids - seen.get(node.name, set()), node.name in seen
            seen[node.name] = ids
            if new and looked and len(held) >= slots:
                return node, held
        return None

    return look


def cycle_finished(cluster: Cluster, state: SharedState, cycle: str, how: str,
                   timeout: float) -> tuple[str, float, float]:
    """Waits until both groups finished ``cycle`` (``how``: what the wait expects); returns it as
    :func:`finished_cycle` does."""
    def this_cycle() -> tuple[str, float, float] | None:
        found = finished_cycle(state)
        return found if found and found[0] == cycle else None

    return wait_for(f"cycle {cycle} finished {how}", this_cycle, timeout,
                    explain=lambda: f"{progress(state)}\n{cluster.logs()}")


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_worker_killed_with_cpe_batches_in_hand_costs_its_cycle_nothing(
        fleet: Launch, silent: tuple[str, int], db: Database, concurrency: int) -> None:
    cluster = fleet(CPES, silent, noc_broker_batch_size=str(BATCH), noc_snmp_timeout_s="2", noc_snmp_retries="1")
    state = SharedState(cluster.redis(), cluster.prefix)
    victim, other = cluster.start("north-1", "north", concurrency), cluster.start("north-2", "north", concurrency)
    cluster.start("south-1", "south", concurrency)
    interval = fresh_interval(CPE_S)
    cluster.start("scheduler-1", None, noc_poll_cpe_interval_s=str(interval))

    def stored_one() -> bool:  # the victim is past its start-up: it stored a batch of the newest cycle
        last = state.last_cycle("cpes", "north")
        return bool(last) and victim.worker in state.ledger(last["cycle"]).values()

    _, held = wait_for(f"the victim taking a new batch after storing one, all its {concurrency} slots busy",
                       fresh_tasks(cluster, [victim], "noc.poll_cpes", stored_one, slots=concurrency), 3 * interval,
                       interval=0.1, explain=lambda: f"{progress(state)}\n{cluster.logs()}")
    victim.kill()
    batches = [t["args"] for t in held if t["name"] == "noc.poll_cpes"]
    cycle = batches[0][0]
    stored = state.ledger(cycle)
    lost = [args for args in batches if any(f"cpe:{i}" not in stored for i in args[3])]
    print(f"killed {victim.worker} with {len(batches)} batches in hand, {len(lost)} of them not stored")
    assert lost, batches
    found = cycle_finished(cluster, state, cycle, "without the killed worker", 2 * interval)
    polled_by = check_cycle(cluster, state, db, found, CPES, answered=ANSWERED)
    assert {polled_by[f"cpe:{i}"] for args in lost for i in args[3]} == {other.worker}, \
        "the batches lost with the killed worker were polled by the other worker of its group, in the same cycle"

    after = wait_for("the next cycle", lambda: finished_cycle(state, cycle), 3 * interval,
                     explain=lambda: f"{progress(state)}\n{cluster.logs()}")
    polled_by = check_cycle(cluster, state, db, after, CPES, answered=ANSWERED)
    assert victim.worker not in polled_by.values()


def test_a_batch_the_broker_lost_is_sent_again_in_its_cycle(fleet: Launch, db: Database) -> None:
    """Kombu's Redis transport takes a batch off its queue before it notes it as taken, so a worker that dies in
    between loses it. Taken off the queue here before any worker runs, the batch is sent again by the leader once
    nothing has held it for longer than a dead worker's batches take to come back, and its cycle finishes with
    every CPE stored once."""
    cluster = fleet(CPES, noc_broker_batch_size=str(BATCH))
    client = cluster.redis()
    state = SharedState(client, cluster.prefix)
    queue = broker_key(cluster.prefix, queue_of(cluster.prefix, "north"))
    batches = math.ceil(sum(1 for i in range(CPES) if group_of(i) == "north") / BATCH)
    interval = fresh_interval(CPE_S)
    scheduler = cluster.start("scheduler-1", None, noc_poll_cpe_interval_s=str(interval),
                              noc_poll_segment_interval_s=str(SEGMENT_S))
    wait_for(f"the cycle's {batches} batches of group north queued", lambda: client.llen(queue) == batches, 120,
             explain=lambda: f"{progress(state)}\n{cluster.logs()}")
    taken = json.loads(client.rpop(queue))  # the oldest, as a worker's BRPOP takes it
    cycle, group, batch, ids, _ = json.loads(base64.b64decode(taken["body"]))[0]
    assert group == "north" and len(ids) == BATCH
    cluster.start("north-1", "north")
    cluster.start("south-1", "south")
    found = cycle_finished(cluster, state, cycle, f"with its batch {batch} sent again", 2 * interval)
    polled_by = check_cycle(cluster, state, db, found, CPES, answered=ANSWERED)
    assert all(f"cpe:{i}" in polled_by for i in ids)
    assert f"cpes cycle {cycle}: 1 batches of group north lost by the broker" in scheduler.log.read_text()


def test_a_worker_killed_with_a_segment_batch_in_hand_costs_the_segment_cycle_nothing(
        fleet: Launch, silent: tuple[str, int], rt: Runtime, db: Database) -> None:
    cluster = fleet(0, agents=0, noc_poll_segment_interval_s=str(SEGMENT_S), noc_snmp_timeout_s="2",
                    noc_snmp_retries="1")
    doc = {"credentials": [{"name": "down", "version": "v2c", "community": "public"}],
           "devices": [{"name": "down-1", "kind": "router", "address": silent[0], "port": silent[1],
                        "credential": "down", "poller_group": "north"}],
           "segments": [{"name": "seg-down-1", "kind": "core", "members": [
               {"device": "down-1", "if_index": 1, "direction": "down", "counter": "in"}]}]}
    with rt.db.session() as s:  # north's segment batch: router-0 and a router that never answers (4 s)
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE),
                                                            rt.events))
        router = s.scalar(select(Device.id).where(Device.name == "router-0"))
    state = SharedState(cluster.redis(), cluster.prefix)
    north = [cluster.start("north-1", "north"), cluster.start("north-2", "north")]
    cluster.start("south-1", "south")
    scheduler = cluster.start("scheduler-1", None)

    finished: list[str] = []

    def first_done() -> bool:  # rates need a reading of a previous cycle (the next cycle's start clears its end)
        if not finished and state.last_cycle("segments", "north").get("finished_at"):
            finished.append(state.last_cycle("segments", "north")["cycle"])
        return bool(finished)

    victim, held = wait_for("a north worker taking a segment batch after the first cycle",
                            fresh_tasks(cluster, north, "noc.poll_devices", first_done), 4 * SEGMENT_S,
                            interval=0.1, explain=cluster.logs)
    victim.kill()
    killed_at = time.time()
    cycle = next(t["args"][0] for t in held if t["name"] == "noc.poll_devices")
    other = next(n for n in north if n is not victim)

    def measured() -> dict[str, str] | None:
        last = state.last_cycle("segments", "north")
        return last if last.get("cycle") == cycle and last.get("finished_at") else None

    last = wait_for(f"segment cycle {cycle} finished", measured, 2 * SEGMENT_S, explain=cluster.logs)
    stored_at = float(last["finished_at"])
    print(f"the lost segment batch was polled {stored_at - killed_at:.1f} s after the kill")
    assert state.ledger(cycle)[f"device:{router}"] == other.worker and state.repeats(cycle) == 0
    assert stored_at < float(last["started_at"]) + SEGMENT_S, "polled again within the segment cycle's interval"

    def points() -> list[Any]:  # the leader's utilization of seg-router-0 in that cycle (it stores it at its end)
        store = EmbeddedStore(scheduler.data_dir / "series.db", read_only=True)
        try:
            return store.query("segment", {"segment": "seg-router-0"}, int(float(last["started_at"])),
                               int(float(last["started_at"]) + SEGMENT_S))
        finally:
            store.close()

    got = wait_for("the leader's segment points of that cycle", points, SEGMENT_S, explain=cluster.logs)
    assert {dict(p.tags)["direction"] for p in got} == {"down", "up"} and len(got) == 2, got
    assert f"segments cycle {cycle}: a batch" not in scheduler.log.read_text(errors="replace")


def started_cycles(cluster: Cluster) -> list[str]:
    """Every cycle any scheduler's log says it started."""
    return [c for n in cluster.nodes if n.group is None
            for c in re.findall(r"started cycle (\S+)", n.log.read_text(errors="replace"))]


def test_a_killed_leader_is_replaced_within_one_segment_interval_and_no_cycle_starts_twice(fleet: Launch) -> None:
    segment_s = 20
    cluster = fleet(300, noc_poll_segment_interval_s=str(segment_s), noc_poll_cpe_interval_s=str(CPE_S))
    schedulers = [cluster.start("scheduler-1", None), cluster.start("scheduler-2", None)]
    cluster.start("north-1", "north")
    cluster.start("south-1", "south")

    def leader() -> list[int]:
        return [i for i, n in enumerate(schedulers) if "took the scheduler lease" in n.log.read_text(errors="replace")]

    first = wait_for("one scheduler taking the lease", leader, 120, explain=cluster.logs)
    assert len(first) == 1, cluster.logs()
    wait_for("a segment cycle started", lambda: started_cycles(cluster), 3 * segment_s, explain=cluster.logs)
    schedulers[first[0]].kill()
    killed = time.monotonic()
    other = schedulers[1 - first[0]]
    wait_for("the other scheduler taking the lease", lambda: "took the scheduler lease" in other.log.read_text(), 120,
             interval=0.2, explain=cluster.logs)
    took = time.monotonic() - killed
    print(f"the lease changed hands {took:.1f} s after the leader was killed (segment interval {segment_s} s)")
    assert took <= segment_s, cluster.logs()
    time.sleep(segment_s * 1.5)  # the new leader starts the next slots' cycles, never one already started
    cycles = started_cycles(cluster)
    assert len(cycles) == len(set(cycles)) and len({c for c in cycles if c.startswith("segments:")}) >= 2, cycles
