"""`noc poll` at a shell: ad-hoc devices (v2c, v3), inventory devices, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from noc.core.settings import Settings
from tests.support.snmpd import COMMUNITY, V3_SHA256, Agent, free_udp_port


def noc(
    settings: Settings | None, *args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None,
    command: tuple[str, ...] = ("poll",),
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update({"NOC_SECRET_KEY": "test-secret-key-0123456789", "COLUMNS": "200", **(env_extra or {})})
    prefix = []
    if settings is not None:
        prefix = ["--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url()]
    return subprocess.run([sys.executable, "-m", "noc", *prefix, *command, *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=cwd)


@pytest.fixture
def lab(snmpd: Agent, settings: Settings, tmp_path: Path) -> Settings:
    """A migrated database whose inventory has lab-router (the snmpd agent) with a wrong community."""
    noc(settings, command=("db", "upgrade"))
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(yaml.safe_dump({
        "credentials": [{"name": "stale", "version": "v2c", "community": "not-the-community"}],
        "devices": [{"name": "lab-router", "kind": "router", "address": "127.0.0.1", "port": snmpd.port,
                     "credential": "stale"}]}))
    imported = noc(settings, "import", str(inventory), command=("inventory",))
    assert imported.returncode == 0, imported.stderr
    return settings


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


def test_an_inventory_name_with_other_credentials_polls_the_inventory_address(lab: Settings) -> None:
    stale = noc(lab, "lab-router", "--timeout", "0.3", "--retries", "0")
    assert stale.returncode == 1 and "timeout" in stale.stderr  # the stored community is wrong
    done = noc(lab, "lab-router", "--community", COMMUNITY)
    assert done.returncode == 0, done.stderr
    assert "lab-router" in done.stdout and "127.0.0.1:" in done.stdout


def test_read_only_commands_create_no_data_directory(snmpd: Agent, tmp_path: Path) -> None:
    adhoc = noc(None, snmpd.address, "--community", COMMUNITY, cwd=tmp_path)
    assert adhoc.returncode == 0, adhoc.stderr
    missing = tmp_path / "nowhere"
    for command, args in ((("poll",), ("cmts-1",)), (("user", "list"), ()), (("audit", "verify"), ())):
        done = subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(missing), *command, *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path,
                              env={k: v for k, v in os.environ.items() if not k.startswith("NOC_")})
        assert done.returncode == 1, (command, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "--data-dir" in done.stderr, (command, done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no .noc, no nowhere/


def test_formats_for_scripts_and_a_table_that_fits(snmpd: Agent) -> None:
    as_json = noc(None, snmpd.address, "--community", COMMUNITY, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    samples = json.loads(as_json.stdout)
    assert {"measurement", "tags", "fields", "time"} <= set(samples[0])
    assert any(s["measurement"] == "interface" and s["tags"].get("ifindex") == "1" for s in samples)
    as_csv = noc(None, snmpd.address, "--community", COMMUNITY, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows and set(rows[0]) == {"measurement", "tags", "field", "value"}
    assert any(r["measurement"] == "system" and r["field"] == "uptime_s" for r in rows)
    narrow = noc(None, snmpd.address, "--community", COMMUNITY, env_extra={"COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    assert "uptime_s" in narrow.stdout and "interface" in narrow.stdout
    wrong = noc(None, snmpd.address, "--community", COMMUNITY, "--format", "xml")
    assert wrong.returncode == 1 and "--format" in wrong.stderr
