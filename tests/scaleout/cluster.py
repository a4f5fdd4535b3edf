"""A scaled-out noc on loopback for tests and benchmarks: the simulator in its own process, a database with CPEs
and segment routers in two poller groups, Redis (a database number and key prefix of its own), and `noc worker`
processes — poller-group workers and schedulers — started and stopped by pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import insert

from noc.core.capability import Runtime
from noc.core.security import SYSTEM
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Cpe, Credential
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter

ROOT = Path(__file__).resolve().parents[2]
NOC = str(Path(sys.executable).with_name("noc"))
COMMUNITY = "scaleout-test"
GROUPS = ("north", "south")
REDIS_URL = "redis://127.0.0.1:6379/11"
"""The Redis database the scale-out tests use; each run has a key prefix of its own in it."""
PROFILES = {"cable_modem": "docsis-cm", "gateway": "docsis-gw", "ont": "gpon-ont"}
ROUTERS = 2


def group_of(i: int) -> str:
    """CPE ``i``'s poller group: two thirds north, one third south."""
    return GROUPS[0] if i % 3 else GROUPS[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5,
             explain: Callable[[], str] = str) -> Any:
    """``check()``'s first truthy answer; fails naming ``what``, the last answer and ``explain()`` when ``timeout``
    passes."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"waited {timeout:.0f} s for {what}; last seen: {last!r}\n{explain()}")


def start_simulator(tmp: Path, agents: int) -> tuple[subprocess.Popen[bytes], list[dict[str, Any]]]:
    """The simulator in its own process: ``agents`` CPE agents without faults and two routers whose uplinks
    carry flat traffic (1 Gbit/s at 40 % in, 20 % out)."""
    config, inventory = tmp / "sim.json", tmp / "agents.json"
    flat = {"kind": "flat", "noise": 0.0}
    routers = [{"kind": "router", "name": f"router-{r}", "community": COMMUNITY, "interfaces": [
        {"index": 1, "name": "uplink", "speed_mbps": 1000, "inbound": {**flat, "peak": 0.4},
         "outbound": {**flat, "peak": 0.2}}]} for r in range(ROUTERS)]
    config.write_text(json.dumps({"seed": 3, "speed": 1.0, "agents": routers,
                                  "fleet": {"count": agents, "community": COMMUNITY, "faults": {}}}))
    proc = subprocess.Popen([sys.executable, "-m", "collectors.sim", "--config", str(config), "--inventory",
                             str(inventory)], cwd=ROOT, stdout=subprocess.DEVNULL)

    def described() -> list[dict[str, Any]] | None:
        assert proc.poll() is None, f"the simulator exited with status {proc.returncode}"
        with suppress(FileNotFoundError, json.JSONDecodeError):
            found: list[dict[str, Any]] = json.loads(inventory.read_text())["agents"]
            if len(found) == agents + ROUTERS:
                return found
        return None

    return proc, wait_for("the simulator's agents", described, 300)


def populate(rt: Runtime, agents: list[dict[str, Any]], cpes: int) -> None:
    """The routers (one per group) with a segment each, and ``cpes`` CPEs over the CPE agents, by group."""
    box = rt.secret_box(CREDENTIALS_PURPOSE)
    routers = [a for a in agents if a["kind"] == "router"]
    fleet = [a for a in agents if a["kind"] != "router"]
    doc = {"credentials": [{"name": "sim", "version": "v2c", "community": COMMUNITY}],
           "devices": [{"name": a["name"], "kind": "router", "address": a["host"], "port": a["port"],
                        "credential": "sim", "poller_group": GROUPS[r % 2]} for r, a in enumerate(routers)],
           "segments": [{"name": f"seg-{a['name']}", "kind": "core", "members": [
               {"device": a["name"], "if_index": 1, "direction": "down", "counter": "in"},
               {"device": a["name"], "if_index": 1, "direction": "up", "counter": "out"}]} for a in routers]}
    with rt.db.session() as s:
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, box, rt.events))
    with rt.db.engine.begin() as conn:
        credential = conn.execute(insert(Credential).returning(Credential.id), {
            "name": "fleet", "version": "v2c", "sealed": box.seal({"community": COMMUNITY})}).scalar_one()
        rows = []
        for i in range(cpes):
            agent = fleet[i % len(fleet)]
            rows.append({"serial": f"SO{i:07d}", "mac": f"02:50:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:"
                                                        f"{i & 255:02x}",
                         "model": agent.get("model", agent["kind"]), "profile": PROFILES[agent["kind"]],
                         "address": agent["host"], "port": agent["port"], "credential_id": credential,
                         "enabled": True, "poller_group": group_of(i)})
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Cpe), rows[start:start + 5000])


@dataclass
class Node:
    """One `noc worker` process: a poller-group worker (``group``) or a scheduler (``group`` None)."""

    name: str
    group: str | None
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    def kill(self) -> None:
        """SIGKILL, as a dying host would."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@dataclass
class Cluster:
    """Processes of one scaled-out noc sharing a database URL, a secret key and a Redis key prefix."""

    tmp: Path
    database_url: str
    secret_key: str
    env: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    nodes: list[Node] = field(default_factory=list)

    def environment(self, data_dir: Path) -> dict[str, str]:
        return {**os.environ, "NOC_DATABASE_URL": self.database_url, "NOC_SECRET_KEY": self.secret_key,
                "NOC_BROKER_URL": REDIS_URL, "NOC_BROKER_PREFIX": self.prefix, "NOC_DATA_DIR": str(data_dir),
                "NOC_LOG_LEVEL": "INFO", **self.env}

    def start(self, name: str, group: str | None) -> Node:
        """Start a poller-group worker of ``group``, or a scheduler (only its ``poll.lead`` job) when None."""
        data_dir = self.tmp / name
        data_dir.mkdir(parents=True, exist_ok=True)
        log = self.tmp / f"{name}.log"
        args = ["worker", "--poller-group", group] if group else ["worker", "--job", "poll.lead"]
        with log.open("ab") as out:
            proc = subprocess.Popen([NOC, *args], env=self.environment(data_dir), stdout=out,
                                    stderr=subprocess.STDOUT, cwd=self.tmp)
        node = Node(name, group, proc, data_dir, log)
        self.nodes.append(node)
        return node

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(REDIS_URL)

    def logs(self) -> str:
        """The tail of every node's log (for a failing test's message)."""
        return "\n".join(f"--- {n.name}\n{n.log.read_text(errors='replace')[-3000:]}" for n in self.nodes)

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        client = self.redis()
        keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
        client.close()


def clusters(tmp: Path, database_url: str, secret_key: str, **env: str) -> Iterator[Cluster]:
    """A cluster that stops its processes and removes its Redis keys afterwards."""
    cluster = Cluster(tmp, database_url, secret_key, {k.upper(): v for k, v in env.items()})
    try:
        yield cluster
    finally:
        cluster.close()
