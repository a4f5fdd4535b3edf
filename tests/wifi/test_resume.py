"""A runner killed with SIGKILL in the middle of a campaign: the next one resumes it, no gateway is written twice
and every CPE ends in a final state. The runner is ``noc wifi run`` in a process of its own; the gateways are
simulated in this one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collectors.sim import SimulatedNetwork
from noc.core.capability import Runtime
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.wifi.models import Campaign, CampaignCpe
from noc.wifi.service import SECRETS_PURPOSE, CampaignIn, ProfileIn, TargetIn, create_campaign, create_profile
from tests.wifi.conftest import PASSPHRASE, PROFILE, Gateway, load, network_config

GATEWAYS = [Gateway(f"GW{n:02d}") for n in range(1, 41)]
RATE = "6"
"""CPEs started per second per segment (two segments): the run takes about 3.5 s."""


def runner(settings: Settings, campaign_id: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update({"NOC_DATABASE_URL": settings.resolved_database_url(), "NOC_DATA_DIR": str(settings.data_dir),
                "NOC_SECRET_KEY": "test-secret-key-0123456789", "NOC_WIFI_SEGMENT_RATE": RATE,
                "NOC_WIFI_LEASE_S": "1", "NOC_SNMP_TIMEOUT_S": "0.5", "NOC_LOG_LEVEL": "DEBUG"})
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "noc", "wifi", "run", str(campaign_id)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])


def finished(rt: Runtime, campaign_id: int) -> int:
    with rt.db.read_session() as s:
        return s.scalar(select(func.count()).where(CampaignCpe.campaign_id == campaign_id,
                                                   CampaignCpe.state == "done")) or 0


@pytest.mark.slow
def test_sigkill_mid_campaign_resumes_without_setting_any_gateway_twice(settings: Settings, rt: Runtime,
                                                                         tmp_path: Path) -> None:
    log = tmp_path / "runner.log"
    with SimulatedNetwork(network_config(GATEWAYS)) as net:
        load(rt, net, GATEWAYS)
        with rt.db.session() as s:
            create_profile(s, ProfileIn.model_validate(PROFILE), rt.secret_box(SECRETS_PURPOSE), SYSTEM)
            s.flush()
            campaign_id = create_campaign(s, CampaignIn(profile="hotspot", action="enable",
                                                        target=TargetIn(all=True)), settings, SYSTEM).id
        first = runner(settings, campaign_id, log)
        deadline = time.monotonic() + 60
        while finished(rt, campaign_id) < 8 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        killed_at = finished(rt, campaign_id)
        assert 8 <= killed_at < len(GATEWAYS), "the runner was not killed mid-campaign"
        time.sleep(1.2)  # the killed runner's lease runs out
        second = runner(settings, campaign_id, log)
        assert second.wait(120) == 0, log.read_text()
        with rt.db.read_session() as s:
            states = dict(s.execute(select(CampaignCpe.serial, CampaignCpe.state)
                                    .where(CampaignCpe.campaign_id == campaign_id)).all())
            campaign = s.get(Campaign, campaign_id)
            assert campaign is not None and campaign.state == "completed"
        assert set(states.values()) == {"done"} and len(states) == len(GATEWAYS)
        writes = {gw.serial: net.agent(gw.serial).state.wifi.sets for gw in GATEWAYS}
        assert set(writes.values()) == {1}, writes  # every gateway written exactly once
    text = log.read_text()
    assert f"campaign {campaign_id} completed: 40 done" in text
    assert PASSPHRASE not in text and "subscriber-secret" not in text


def test_run_of_an_unknown_campaign_is_one_line(settings: Settings, rt: Runtime, tmp_path: Path) -> None:
    log = tmp_path / "runner.log"
    unknown = runner(settings, 99, log)
    assert unknown.wait(60) == 1
    assert log.read_text().strip().splitlines() == ["error: id: no campaign with id 99"]
