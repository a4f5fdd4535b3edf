"""A CPE cycle in-process against the same cycle through Celery with one and two poller-group workers.

Setup (not timed): the simulator in its own process (``--agents`` CPE agents without faults), a temporary SQLite
database with ``--cpes`` CPEs in two poller groups (tests/scaleout/cluster.py), Redis at 127.0.0.1:6379
(database 11, a key prefix of this run's own, removed afterwards). Each way runs a warm-up cycle first (the
poller learns each device's table sizes), then the measured one:

- **in-process**: ``Poller.cpe_cycle()`` in this process, into an embedded store;
- **celery-N**: N `noc worker --poller-group north --poller-group south` processes (each its own embedded
  store), this process as the leader sending the batches (``Leader.cpe_cycle``); the cycle ends when both
  groups' batches are stored.

Printed per way: wall time, CPU seconds (user+sys) per 1,000 polls — of this process for in-process; of the
workers (``/proc/<pid>/stat``), the leader and the Redis server (``INFO cpu``) for Celery — and Redis commands
per poll (``INFO stats``: the Redis server is shared with whatever else runs on this machine, so the figure is an
upper bound). Overhead = Celery's CPU per poll over in-process's, less one.

    .venv/bin/python -m benchmarks.celery_cycle --cpes 100000 --agents 1000   # from the repository root
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from pydantic import SecretStr

from collectors.sinks import EmbeddedStore
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.settings import Settings
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.migrations import upgrade
from noc.polling.service import Poller
from noc.scaleout.app import make_app
from noc.scaleout.service import Leader
from noc.scaleout.state import SharedState
from tests.scaleout.cluster import GROUPS, NOC, REDIS_URL, Cluster, populate, start_simulator, wait_for

SECRET = "celery-benchmark-secret-key-0123456789"
TICK_S = os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int) -> float:
    """User+sys CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S


def redis_figures(client: redis.Redis) -> tuple[int, float]:
    """Commands processed and CPU seconds of the Redis server so far."""
    stats, cpu = client.info("stats"), client.info("cpu")
    return int(stats["total_commands_processed"]), float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def in_process(rt: Runtime, settings: Settings, tmp: Path) -> dict[str, float]:
    sink = EmbeddedStore(tmp / "in-process.db")
    poller = Poller(rt.db, settings, sink, rt.secret_box(CREDENTIALS_PURPOSE), EventBus())
    try:
        poller.cpe_cycle()  # warm-up
        cpu, began = own_cpu(), time.perf_counter()
        report = poller.cpe_cycle()
        return {"wall_s": time.perf_counter() - began, "cpu_s": own_cpu() - cpu, "polls": report.targets,
                "failed": report.failed, "redis_ops": 0}
    finally:
        poller.close()
        sink.close()


def through_celery(rt: Runtime, settings: Settings, cluster: Cluster, workers: int, tmp: Path) -> dict[str, float]:
    scaled = settings.model_copy(update={"broker_url": SecretStr(REDIS_URL), "broker_prefix": cluster.prefix})
    procs = []
    for i in range(workers):
        data_dir = tmp / f"celery-{workers}-{i}"
        data_dir.mkdir()
        log = (tmp / f"celery-{workers}-{i}.log").open("ab")
        args = [arg for g in GROUPS for arg in ("--poller-group", g)]
        procs.append(subprocess.Popen([NOC, "worker", *args], env=cluster.environment(data_dir), stdout=log,
                                      stderr=subprocess.STDOUT, cwd=tmp))
    sink = EmbeddedStore(tmp / f"leader-{workers}.db")
    poller = Poller(rt.db, scaled, sink, rt.secret_box(CREDENTIALS_PURPOSE), EventBus())
    app = make_app(scaled)
    client = redis.Redis.from_url(REDIS_URL)
    leader = Leader(Runtime(scaled, rt.db), app, client, poller)
    state = SharedState(client, cluster.prefix)
    try:
        wait_for(f"{workers} workers answering", lambda: len(app.control.ping(timeout=1.0)) == workers, 120)

        def cycle(name: str) -> None:
            leader.cpe_cycle(name)
            wait_for(f"cycle {name} stored", lambda: all(
                state.last_cycle("cpes", g).get("finished_at") for g in GROUPS), 3600, interval=0.1)

        cycle(f"cpes:warm-{workers}")
        commands, redis_cpu = redis_figures(client)
        workers_cpu, cpu, began = sum(proc_cpu(p.pid) for p in procs), own_cpu(), time.perf_counter()
        cycle(f"cpes:measured-{workers}")
        wall = time.perf_counter() - began
        leader_cpu = own_cpu() - cpu
        worker_cpu = sum(proc_cpu(p.pid) for p in procs) - workers_cpu
        after_commands, after_cpu = redis_figures(client)
        polls = sum(int(state.last_cycle("cpes", g)["targets"]) for g in GROUPS)
        return {"wall_s": wall, "cpu_s": worker_cpu + leader_cpu + after_cpu - redis_cpu, "polls": polls,
                "worker_cpu_s": worker_cpu, "leader_cpu_s": leader_cpu, "redis_cpu_s": after_cpu - redis_cpu,
                "failed": -1, "redis_ops": after_commands - commands}
    finally:
        leader.release()
        poller.close()
        sink.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def line(name: str, f: dict[str, Any]) -> str:
    per_k = f["cpu_s"] / f["polls"] * 1000
    parts = [f"{name:<11} wall {f['wall_s']:7.1f} s", f"{f['polls'] / f['wall_s']:7.0f} polls/s",
             f"CPU {f['cpu_s']:7.1f} s = {per_k:5.2f} s per 1,000 polls",
             f"{f['redis_ops'] / f['polls']:5.2f} Redis ops/poll"]
    if "worker_cpu_s" in f:
        parts.append(f"(workers {f['worker_cpu_s']:.1f} s, leader {f['leader_cpu_s']:.1f} s, "
                     f"redis {f['redis_cpu_s']:.1f} s)")
    return " | ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpes", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="noc-celery-") as name:
        tmp = Path(name)
        url = f"sqlite:///{tmp / 'noc.db'}"
        settings = Settings(data_dir=tmp / "data", database_url=url, secret_key=SECRET)
        db = Database(url)
        db.attach_secret(settings.resolved_secret_key)
        upgrade(db)
        sim, agents = start_simulator(tmp, args.agents)
        cluster = Cluster(tmp, url, SECRET)
        try:
            rt = Runtime(settings, db)
            populate(rt, agents, args.cpes)
            results = {"in-process": in_process(rt, settings, tmp)}
            print(line("in-process", results["in-process"]), flush=True)
            for n in args.workers:
                results[f"celery-{n}"] = through_celery(rt, settings, cluster, n, tmp)
                print(line(f"celery-{n}", results[f"celery-{n}"]), flush=True)
        finally:
            cluster.close()
            sim.kill()
            sim.wait(timeout=30)
            db.dispose()
    base = results["in-process"]["cpu_s"] / results["in-process"]["polls"]
    for name, f in results.items():
        if name != "in-process":
            print(f"{name}: CPU per poll {f['cpu_s'] / f['polls'] / base - 1:+.0%} against in-process")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
