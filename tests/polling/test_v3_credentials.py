"""SNMPv3 as operators' fleets run it, through noc: protocol names as written, noAuthNoPriv users accepted with
a warning (API, import, `noc poll`), and per-device overrides of a profile's limits."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from collectors.snmp.profiles import PollLimits
from noc.api import create_app
from noc.auth.service import add_user, issue_token
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.security import SYSTEM, Role
from noc.core.settings import Settings
from noc.inventory.models import Credential
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling.targets import segment_devices
from tests.support.snmpd import V3_SHA256, Agent

WARNING = "noAuthNoPriv: nothing is protected"


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with db.session() as s:
        token = issue_token(s, add_user(s, "eng", Role.NOC_ENGINEER, SYSTEM), SYSTEM)
    with TestClient(create_app(settings, db, scheduler=False)) as test_client:
        yield test_client, {"Authorization": f"Bearer {token}"}


def test_protocol_names_as_operators_write_them(client: tuple[TestClient, dict[str, str]], db: Database) -> None:
    http, auth = client
    body = {"name": "core", "version": "v3", "v3_user": "noc", "auth_proto": "sha-256", "auth_key": "a" * 12,
            "priv_proto": "AES-128", "priv_key": "p" * 12}
    created = http.post("/api/v1/credentials", json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert (created.json()["auth_proto"], created.json()["priv_proto"]) == ("SHA256", "AES")
    cisco = http.post("/api/v1/credentials", json={**body, "name": "cisco", "priv_proto": "aes-256-c"}, headers=auth)
    assert cisco.json()["priv_proto"] == "AES256C" and "X-Noc-Warning" not in cisco.headers
    wrong = http.post("/api/v1/credentials", json={**body, "name": "x", "auth_proto": "sha-3"}, headers=auth)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "auth_proto"
    assert "SHA-256" in wrong.json()["error"]["message"]  # the accepted names are listed
    with db.read_session() as s:
        assert s.scalar(sa.select(Credential.auth_proto).where(Credential.name == "core")) == "SHA256"


def test_no_auth_no_priv_is_accepted_with_a_warning(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    open_user = http.post("/api/v1/credentials", json={"name": "lab", "version": "v3", "v3_user": "public-ro"},
                          headers=auth)
    assert open_user.status_code == 201, open_user.text
    assert WARNING in open_user.headers["X-Noc-Warning"]
    half = http.post("/api/v1/credentials", json={"name": "half", "version": "v3", "v3_user": "u",
                                                  "priv_proto": "AES", "priv_key": "p" * 12}, headers=auth)
    assert half.status_code == 422 and half.json()["error"]["field"] == "auth_key"


def noc(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update({"NOC_SECRET_KEY": "test-secret-key-0123456789", "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(settings.data_dir), "--database-url",
                           settings.resolved_database_url(), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_import_warns_of_open_users_and_keeps_device_limits(db: Database, settings: Settings, tmp_path: Path) -> None:
    file = tmp_path / "inv.yaml"
    file.write_text(yaml.safe_dump({
        "credentials": [{"name": "lab", "version": "v3", "v3_user": "public-ro"},
                        {"name": "core", "version": "v3", "v3_user": "noc", "auth_proto": "SHA-512",
                         "auth_key": "a" * 12, "priv_proto": "aes256", "priv_key": "p" * 12}],
        "devices": [{"name": "big-cmts", "kind": "cmts", "address": "127.0.0.1", "credential": "core",
                     "max_rows": 50000, "poll_deadline_s": 120}],
        "segments": [{"name": "sg", "kind": "access",
                      "members": [{"device": "big-cmts", "if_index": 1, "direction": "down"}]}]}))
    done = noc(settings, "inventory", "import", str(file))
    assert done.returncode == 0, done.stderr
    assert f"credential lab: SNMPv3 {WARNING}" in done.stderr and "credential core" not in done.stderr
    box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
    with db.read_session() as s:
        (target,) = segment_devices(s, box, timeout=1, retries=0)
    assert target.limits == PollLimits(max_rows=50000, poll_deadline_s=120.0)


def test_noc_poll_with_a_user_that_has_no_keys_warns(snmpd: Agent) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    done = subprocess.run([sys.executable, "-m", "noc", "poll", snmpd.address, "--v3-user", V3_SHA256.user,
                           "--auth-proto", "sha-256", "--timeout", "1", "--retries", "0"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=Path(env.get("TMPDIR", "/tmp")))
    assert f"warning: SNMPv3 {WARNING}" in done.stderr  # snmpd then refuses the unauthenticated user
    assert done.returncode == 1 and "Traceback" not in done.stderr
