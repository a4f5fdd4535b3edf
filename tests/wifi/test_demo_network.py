"""The demo's gateways are managed over SNMPv3 authPriv: the demo inventory's credentials reach the demo
network's gateways, and the demo's dry run lists what would change and why some gateways are skipped."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from collectors.sim import SimulatedNetwork, demo_config
from noc.core.capability import DemoContext, Runtime
from noc.core.security import SYSTEM
from noc.inventory.demo_data import demo_document
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.wifi.demo import DEMO
from noc.wifi.models import CampaignCpe
from noc.wifi.runner import run_campaign
from noc.wifi.service import SECRETS_PURPOSE

CPES = 24


def test_demo_dry_run_reads_the_demo_gateways_over_v3(rt: Runtime, tmp_path: Path) -> None:
    rt.settings.snmp_timeout_s = 0.5
    with SimulatedNetwork(demo_config(CPES, cpe_base_port=None, device_base_port=None)) as net:
        doc = demo_document(CPES)
        for i, cpe in enumerate(doc["cpes"]):
            cpe["port"] = net.endpoint(f"cpe-{i + 1:04d}")[1]
        for device in doc["devices"]:
            device["port"] = net.endpoint(device["name"])[1]
        with rt.db.session() as s:
            import_rows(document_rows("demo", doc), InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE),
                                                                   rt.events))
        assert DEMO.seed is not None
        ctx = DemoContext(rt, tmp_path, 0, 0)
        DEMO.seed(ctx)
        assert "GET /api/v1/wifi/campaigns/1" in ctx.notes[0]
        run_campaign(rt.db, rt.settings, 1, credentials=rt.secret_box(CREDENTIALS_PURPOSE),
                     secrets=rt.secret_box(SECRETS_PURPOSE))
        assert all(net.agent(f"cpe-{i:04d}").state.wifi.sets == 0 for i in range(2, CPES + 1, 4))
    with rt.db.read_session() as s:
        rows = {r.serial: (r.state, r.reason) for r in s.scalars(select(CampaignCpe))}
    # sg-ljubljana-2 holds CPE i with i % 4 == 1 (0-based); subscriber i consents unless i % 3 == 0; CPE 1 is on v2c
    assert sorted(rows) == [f"DEMO{i + 1:06d}" for i in range(1, CPES, 4)]
    assert rows["DEMO000002"] == ("skipped", "reachable only over SNMPv2c: secrets are written only over SNMPv3 "
                                             "authPriv")
    assert rows["DEMO000006"][0] == "done" and rows["DEMO000006"][1].startswith("would change")
    assert rows["DEMO000010"] == ("skipped", "the subscriber's contract does not allow a secondary SSID "
                                             "(ssid_consent)")
    assert {state for state, _ in rows.values()} == {"done", "skipped"}
