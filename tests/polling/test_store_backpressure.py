"""A CPE cycle into an embedded store that cannot keep up: polling slows down, nothing is dropped, and the cycle
says so in one line."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator

import pytest

from collectors.sim import SimulatedNetwork
from collectors.sim.config import ModemConfig, NetworkConfig
from collectors.sinks import EmbeddedStore
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.service import Poller

COMMUNITY = "backpressure"
CPES = 40
LOCK_S = 3.0


@pytest.fixture(scope="module")
def net() -> Iterator[SimulatedNetwork]:
    agents = [ModemConfig(kind="cable_modem", name=f"cm{i}", community=COMMUNITY) for i in range(4)]
    with SimulatedNetwork(NetworkConfig(agents=agents)) as network:
        yield network


def test_slow_store_slows_the_cycle_and_drops_nothing(
    net: SimulatedNetwork, db: Database, rt: Runtime, settings: Settings, tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cpes = []
    for i in range(CPES):
        host, port, _ = net.endpoint(f"cm{i % 4}")
        cpes.append({"serial": f"BP{i:04d}", "mac": f"02:bb:00:00:00:{i:02x}", "model": "TC4400",
                     "profile": "docsis-cm", "address": host, "port": port, "credential": "cm"})
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    with db.session() as s:
        import_rows(document_rows("t", {"credentials": [{"name": "cm", "version": "v2c", "community": COMMUNITY}],
                                        "cpes": cpes}), InventoryWriter(s, SYSTEM, box, rt.events))
    path = tmp_path_factory.mktemp("series") / "series.db"
    # a queue of 100 samples (a CPE gives ~40) and a writer that stalls: another connection holds the write lock
    sink = EmbeddedStore(path, max_queue_points=100, batch_size=50)
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(LOCK_S, lambda: locker.execute("ROLLBACK"))
    release.start()
    poller = Poller(db, settings, sink, box, rt.events)
    try:
        with caplog.at_level(logging.INFO):
            report = poller.cpe_cycle()
    finally:
        release.join()
        locker.close()
        poller.close()
        sink.close()
    stats = sink.stats()
    assert report.ok == CPES and report.samples > 100
    assert stats["points_dropped_total"] == 0
    assert stats["points_written_total"] == report.samples  # every sample stored
    assert stats["producer_waits_total"] >= 1 and report.duration_s >= LOCK_S * 0.8  # the producer was slowed
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("noc.polling", "collectors.sinks"))
             and "sink" in r.getMessage()]
    assert len(lines) == 1 and "held the cycle back" in lines[0] and "nothing dropped" in lines[0]
