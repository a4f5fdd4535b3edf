"""`noc poll` at a shell: ad-hoc devices (v2c, v3), inventory devices, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from noc.settings import Settings
from tests.support.snmpd import COMMUNITY, V3_SHA256, Agent, free_udp_port


def noc(
    settings: Settings | None, *args: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update({"NOC_SECRET_KEY": "test-secret-key-0123456789", "COLUMNS": "200", **(env_extra or {})})
    prefix = []
    if settings is not None:
        prefix = ["--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url()]
    return subprocess.run([sys.executable, "-m", "noc", *prefix, "poll", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_adhoc_v2c_and_v3(snmpd: Agent) -> None:
    v2c = noc(None, snmpd.address, "--community", COMMUNITY)
    assert v2c.returncode == 0, v2c.stderr
    assert "interface" in v2c.stdout and "uptime_s" in v2c.stdout and "lo" in v2c.stdout
    v3 = noc(None, snmpd.address, "--v3-user", V3_SHA256.user, "--auth-proto", "SHA256", "--priv-proto", "AES",
             env_extra={"NOC_POLL_AUTH_KEY": V3_SHA256.auth_key, "NOC_POLL_PRIV_KEY": V3_SHA256.priv_key or ""})
    assert v3.returncode == 0, v3.stderr
    assert "interface" in v3.stdout


def test_rates_over_an_interval(snmpd: Agent) -> None:
    done = noc(None, snmpd.address, "--community", COMMUNITY, "--rate-interval", "1")
    assert done.returncode == 0, done.stderr
    assert "bit/s" in done.stdout


def test_inventory_device_by_name(snmpd: Agent, settings: Settings, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(settings.data_dir), "--database-url",
                    settings.resolved_database_url(), "db", "upgrade"], check=True, capture_output=True,
                   env={**os.environ, "NOC_SECRET_KEY": "test-secret-key-0123456789"})
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(yaml.safe_dump({
        "credentials": [{"name": "lab", "version": "v2c", "community": COMMUNITY}],
        "devices": [{"name": "lab-router", "kind": "router", "address": "127.0.0.1", "port": snmpd.port,
                     "credential": "lab"}]}))
    imported = subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(settings.data_dir), "--database-url",
                               settings.resolved_database_url(), "inventory", "import", str(inventory)],
                              capture_output=True, text=True,
                              env={**os.environ, "NOC_SECRET_KEY": "test-secret-key-0123456789"})
    assert imported.returncode == 0, imported.stderr
    done = noc(settings, "lab-router")
    assert done.returncode == 0, done.stderr
    assert "lab-router" in done.stdout and COMMUNITY not in done.stdout + done.stderr
    missing = noc(settings, "nope")
    assert missing.returncode == 1 and "not in the inventory" in missing.stderr


def test_dead_device_is_one_line_without_secrets() -> None:
    done = noc(None, f"127.0.0.1:{free_udp_port()}", "--community", "hush-hush", "--timeout", "0.3", "--retries", "0")
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "timeout" in done.stderr and "hush-hush" not in done.stderr
