"""A scaled-out noc on loopback for tests and benchmarks: the simulator in its own process, a database with CPEs
and segment routers in two poller groups, Redis (a database number and key prefix of its own), and `noc worker`
processes — poller-group workers and schedulers — started and stopped by pid."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from pydantic import SecretStr
from sqlalchemy import func, insert, select

from collectors.sinks import EmbeddedStore
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Cpe, Credential
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.models import CpeHealth
from noc.scaleout.app import make_app
from noc.scaleout.state import SharedState, queue_of

ROOT = Path(__file__).resolve().parents[2]
NOC = str(Path(sys.executable).with_name("noc"))
COMMUNITY = "scaleout-test"
GROUPS = ("north", "south")
REDIS_URL = "redis://127.0.0.1:6379/11"
"""The Redis database the scale-out tests use; each run has a key prefix of its own in it."""
PROFILES = {"cable_modem": "docsis-cm", "gateway": "docsis-gw", "ont": "gpon-ont"}
ROUTERS = 2
SILENT_EVERY = 25


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


def populate(rt: Runtime, agents: list[dict[str, Any]], cpes: int, silent: tuple[str, int] | None = None) -> None:
    """The routers (one per group) with a segment each, and ``cpes`` CPEs over the CPE agents, by group. With
    ``silent`` (an address that never answers), every :data:`SILENT_EVERY`-th CPE of each group is there, so
    that every batch of that many CPEs or more takes the SNMP timeout and its retries."""
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
        rows, placed = [], Counter[str]()
        for i in range(cpes):
            agent = fleet[i % len(fleet)]
            host, port = agent["host"], agent["port"]
            if silent and placed[group_of(i)] % SILENT_EVERY == 0:
                host, port = silent
            placed[group_of(i)] += 1
            rows.append({"serial": f"SO{i:07d}", "mac": f"02:50:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:"
                                                        f"{i & 255:02x}",
                         "model": agent.get("model", agent["kind"]), "profile": PROFILES[agent["kind"]],
                         "address": host, "port": port, "credential_id": credential,
                         "enabled": True, "poller_group": group_of(i)})
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Cpe), rows[start:start + 5000])


def fresh_interval(at_least: int, margin: float = 10.0) -> int:
    """A cycle interval of at least ``at_least`` seconds whose current slot began less than ``margin`` seconds
    ago: a scheduler started now starts its first cycle at once and the next one a whole interval (less the
    margin) later, never a few seconds later (cycles start at the multiples of the interval since the epoch)."""
    now = time.time()
    return next(i for i in itertools.count(at_least) if now % i < margin)


@dataclass
class Node:
    """One `noc worker` process: a poller-group worker (``group``) or a scheduler (``group`` None)."""

    name: str
    group: str | None
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log: Path

    @property
    def worker(self) -> str:
        """This worker in the cycles' ledgers."""
        return f"{socket.gethostname()}:{self.proc.pid}"

    @property
    def nodename(self) -> str:
        """This worker's Celery node name (what ``inspect`` and ``ping`` answer with)."""
        return f"{self.group}@{socket.gethostname()}.{self.proc.pid}"

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

    def start(self, name: str, group: str | None, concurrency: int = 1, **env: str) -> Node:
        """Start a poller-group worker of ``group`` polling ``concurrency`` batches at once, or a scheduler (only
        its ``poll.lead`` job) when ``group`` is None; ``env`` adds to the cluster's environment (upper-cased)."""
        data_dir = self.tmp / name
        data_dir.mkdir(parents=True, exist_ok=True)
        log = self.tmp / f"{name}.log"
        args = (["worker", "--poller-group", group, "--concurrency", str(concurrency)] if group
                else ["worker", "--job", "poll.lead"])
        with log.open("ab") as out:
            proc = subprocess.Popen([NOC, *args], env={**self.environment(data_dir),
                                                       **{k.upper(): v for k, v in env.items()}},
                                    stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp)
        node = Node(name, group, proc, data_dir, log)
        self.nodes.append(node)
        return node

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(REDIS_URL)

    @cached_property
    def control(self) -> Celery:
        """noc's Celery app on the cluster's broker, to ask its workers."""
        return make_app(Settings(broker_url=SecretStr(REDIS_URL), broker_prefix=self.prefix))

    def in_hand(self, node: Node) -> list[dict[str, Any]]:
        """The tasks worker ``node`` runs right now (Celery's ``inspect active``: id, name, args, ...)."""
        replies = self.control.control.inspect(destination=[node.nodename], timeout=5.0, limit=1).active()
        return list((replies or {}).get(node.nodename) or [])

    def logs(self) -> str:
        """The tail of every node's log and the broker's batches taken but not acknowledged, with the TTL of the
        lock of Kombu's sweep for those of dead workers (for a failing test's message)."""
        client, keys = self.redis(), f"{self.prefix}:celery:"
        queued = {g: client.llen(keys + queue_of(self.prefix, g)) for g in GROUPS}  # as Celery's monitoring guide
        broker = (f"--- broker: batches queued {queued}, taken but not acknowledged {client.hlen(keys + 'unacked')}"
                  f"; sweep lock TTL {client.ttl(keys + 'unacked_mutex')} s")
        client.close()
        return "\n".join([*(f"--- {n.name}\n{n.log.read_text(errors='replace')[-3000:]}" for n in self.nodes), broker])

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if "control" in self.__dict__:
            self.control.close()
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


@contextmanager
def launch(rt: Runtime, settings: Settings, tmp: Path, cpes: int, agents: int,
           silent: tuple[str, int] | None = None, **env: str) -> Iterator[Cluster]:
    """The simulator (``agents`` CPE agents and the two routers) and a cluster on a database holding ``cpes`` CPEs
    of both groups (``silent`` as for :func:`populate`); ``env`` as for :func:`clusters`."""
    sim, described = start_simulator(tmp, agents)
    try:
        populate(rt, described, cpes, silent)
        yield from clusters(tmp, settings.resolved_database_url(), "test-secret-key-0123456789", **env)
    finally:
        sim.kill()
        sim.wait(timeout=30)


def finished_cycle(state: SharedState, after: str | None = None) -> tuple[str, float, float] | None:
    """The CPE cycle both groups finished (a later one than ``after``), with when it started and ended (read
    together: the next cycle may start right after)."""
    lasts = [state.last_cycle("cpes", g) for g in GROUPS]
    cycles = {last.get("cycle") for last in lasts}
    if len(cycles) == 1 and all(last.get("finished_at") for last in lasts):
        cycle = str(cycles.pop())
        if cycle != after:
            return (cycle, min(float(last["started_at"]) for last in lasts),
                    max(float(last["finished_at"]) for last in lasts))
    return None


def progress(state: SharedState) -> str:
    """Both groups' newest CPE cycles (for a failing wait's message)."""
    return "\n".join(f"{g}: {state.last_cycle('cpes', g)}" for g in GROUPS)


def samples_per_cpe(cluster: Cluster, start: float, end: float) -> Counter[str]:
    """How many `poll` samples each CPE has in every worker's store between ``start`` and ``end``."""
    counts: Counter[str] = Counter()
    for node in cluster.nodes:
        path = node.data_dir / "series.db"
        if node.group and path.exists():
            store = EmbeddedStore(path, read_only=True)
            try:
                counts.update(dict(x.tags)["device"] for x in store.query("poll", None, int(start), int(end) + 1)
                              if dict(x.tags)["device"].startswith("SO"))
            finally:
                store.close()
    return counts


def check_cycle(cluster: Cluster, state: SharedState, db: Database, found: tuple[str, float, float],
                cpes: int, answered: float = 0.9) -> dict[str, str]:
    """Every one of the ``cpes`` CPEs stored once in the cycle by a worker of its group: the ledger, the health
    rows, the samples (of at least the ``answered`` share of them that answered). Returns the ledger's CPEs
    (``cpe:<id>`` → the worker that stored it)."""
    cycle, started, finished = found
    groups = {n.worker: n.group for n in cluster.nodes if n.group}
    polled = {k: v for k, v in state.ledger(cycle).items() if k.startswith("cpe:")}
    assert len(polled) == cpes, f"{len(polled)} of {cpes} CPEs stored in {cycle}\n{cluster.logs()}"
    wrong = [(t, w) for t, w in polled.items() if groups.get(w) != group_of(int(t[4:]) - 1)]
    assert not wrong, f"CPEs polled outside their group: {wrong[:5]}"
    assert state.repeats(cycle) == 0, f"{state.repeats(cycle)} CPEs of {cycle} stored more than once"
    counts = samples_per_cpe(cluster, started - 1, finished)  # the samples carry the cycle's start second
    with db.session() as s:
        fresh = s.scalar(select(func.count()).select_from(CpeHealth).where(
            CpeHealth.at >= datetime.fromtimestamp(int(started), UTC)))
    assert fresh == cpes, f"{fresh} health rows of {cpes} CPEs since {cycle} began"  # upserts: one per CPE
    # a CPE that answered has its samples once, whichever worker polled it (one that timed out has none)
    assert set(counts.values()) == {1}, f"samples per CPE: {Counter(counts.values())}"
    assert len(counts) >= cpes * answered, f"only {len(counts)} of {cpes} CPEs answered\n{cluster.logs()}"
    return polled
