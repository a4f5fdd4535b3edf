"""Hostile or broken agents inside noc: `noc poll` ends with one line, and a cycle with such an agent among
healthy devices stores every healthy device's result (issue #8, acceptance 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from collectors.sinks import EmbeddedStore
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Device
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.models import PollStatus
from noc.polling.service import Poller
from tests.support.hostile import HC_IN, IF_TYPE, ScriptedAgent, endless_columns, hostile_interfaces, mib_answer
from tests.support.snmpd import COMMUNITY, Agent

HOSTILE_COMMUNITY = "hostile-Qm4-community"


@pytest.fixture
def hostile() -> Iterator[ScriptedAgent]:
    with ScriptedAgent(mib_answer(HOSTILE_COMMUNITY, hostile_interfaces())) as agent:
        yield agent


@pytest.fixture
def endless() -> Iterator[ScriptedAgent]:
    with endless_columns([IF_TYPE, HC_IN]) as agent:
        yield agent


def test_noc_poll_of_out_of_range_values_exits_1_with_one_line(hostile: ScriptedAgent) -> None:
    done = subprocess.run([sys.executable, "-m", "noc", "poll", f"127.0.0.1:{hostile.port}", "--community",
                           HOSTILE_COMMUNITY, "--timeout", "1"], capture_output=True, text=True, timeout=60,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("NOC_")}, "COLUMNS": "200"})
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stdout + done.stderr
    assert "4 invalid reading(s)" in lines[0] and "ifHCInOctets row 2" in lines[0] and "sysUpTime" in lines[0]
    assert HOSTILE_COMMUNITY not in done.stderr


def test_a_segment_cycle_keeps_every_healthy_result_beside_hostile_agents(
    db: Database, rt: Runtime, settings: Settings, snmpd: Agent, hostile: ScriptedAgent, endless: ScriptedAgent,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = settings.model_copy(update={"snmp_timeout_s": 1.0, "snmp_retries": 0})
    device = {"kind": "router", "address": "127.0.0.1"}
    doc = {
        "credentials": [{"name": "lab", "version": "v2c", "community": COMMUNITY},
                        {"name": "hostile", "version": "v2c", "community": HOSTILE_COMMUNITY}],
        "devices": [{"name": "healthy", **device, "port": snmpd.port, "credential": "lab"},
                    {"name": "broken-values", **device, "port": hostile.port, "credential": "hostile"},
                    {"name": "endless", **device, "port": endless.port, "credential": "hostile", "max_rows": 500}],
        "segments": [{"name": f"seg-{name}", "kind": "core", "capacity_down_mbps": 100000,
                      "members": [{"device": name, "if_index": 1, "direction": "down", "counter": "in"}]}
                     for name in ("healthy", "broken-values", "endless")],
    }
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    with db.session() as s:
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, box, rt.events))
    sink = EmbeddedStore(tmp_path_factory.mktemp("series") / "series.db")
    poller = Poller(db, settings, sink, box, rt.events)
    try:
        first = poller.segment_cycle()
        time.sleep(1.1)
        second = poller.segment_cycle()
    finally:
        poller.close()
        sink.close()
    assert (first.targets, second.targets) == (3, 3)
    with db.read_session() as s:
        by_name = {name: row for row, name in s.execute(
            sa.select(PollStatus, Device.name).join(Device, Device.id == PollStatus.target_id)
            .where(PollStatus.target_kind == "device"))}
    assert by_name["healthy"].ok and by_name["healthy"].invalid_readings == 0
    assert by_name["broken-values"].ok and by_name["broken-values"].invalid_readings == 4
    assert "ifHCInOctets row 2" in by_name["broken-values"].invalid_detail
    endless_row = by_name["endless"]
    assert not endless_row.ok and "more than max_rows=500 rows" in endless_row.error
    assert "interfaces" in endless_row.error  # the table is named
    assert second.segment_points >= 1  # the healthy segment got its point
