"""Scaled-out polling at the issue's size with real processes (issue 17's acceptance 1): the simulator, Redis,
PostgreSQL, two poller groups with three `noc worker --poller-group` processes and a scheduler, 20,000 CPEs; one
cycle polls every CPE once, by a worker of its group. Killed workers and leaders: test_failover.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.settings import Settings
from noc.scaleout.state import SharedState
from tests.scaleout.cluster import Cluster, check_cycle, finished_cycle, fresh_interval, launch, progress, wait_for

CPES, AGENTS = 20_000, 200
CYCLE_WAIT_S = 1800
"""How long the cycle may take: 66 s here at load 2, several times that beside other tests."""
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def cluster(rt: Runtime, settings: Settings, tmp_path: Path) -> Iterator[Cluster]:
    # batches of 250 (the default) take seconds; a visibility timeout of 120 s never hands a live one to another
    # worker however loaded the machine is, and 128 requests in flight per worker keep the simulator's queue short
    with launch(rt, settings, tmp_path, CPES, AGENTS, noc_broker_visibility_timeout_s="120",
                noc_poll_concurrency="128", noc_snmp_timeout_s="3") as cluster:
        yield cluster


def test_20000_cpes_polled_once_in_a_cycle_each_by_a_worker_of_its_group(cluster: Cluster, db: Database) -> None:
    state = SharedState(cluster.redis(), cluster.prefix)
    for name, group in (("north-1", "north"), ("north-2", "north"), ("south-1", "south")):
        cluster.start(name, group)
    # the cycle starts at once and the next one not before the whole interval has passed
    cluster.start("scheduler-1", None, noc_poll_cpe_interval_s=str(fresh_interval(2 * CYCLE_WAIT_S)))

    found = wait_for(f"a cycle of {CPES} CPEs finished by both groups", lambda: finished_cycle(state),
                     CYCLE_WAIT_S, interval=2, explain=lambda: f"{progress(state)}\n{cluster.logs()}")
    print(f"{CPES} CPEs in {found[2] - found[1]:.1f} s ({found[0]})")
    polled_by = check_cycle(cluster, state, db, found, CPES)
    workers = {n.worker for n in cluster.nodes if n.group}
    assert set(polled_by.values()) == workers, "every worker took batches of its group"
