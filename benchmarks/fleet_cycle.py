"""Fleet cycle: one ``Poller.cpe_cycle()`` over a large CPE inventory against a simulated fleet.

The goal it checks: "an inventory of 100,000 CPEs polled within a 5-minute cycle with under 1 GiB resident
memory". Setup, none of it timed:

1. a temporary SQLite database (``noc.migrations.upgrade``) with one v2c credential sealed by
   ``SecretBox(key, "snmp-credentials")`` and ``--cpes`` CPEs, bulk-inserted with SQLAlchemy core
   (``insert(cpes)`` in chunks of 10,000 rows: ORM objects would only slow the setup down);
2. ``--agents`` simulated CPE agents (``python -m collectors.sim --config``, a ``fleet`` of cable modems,
   gateways and ONTs with the simulator's default faults: two agents offline, a few unhealthy) in a separate
   process, so the poller's CPU and memory are measured alone. CPE *i* points at agent *i* % agents on
   127.0.0.1 and gets the profile of that agent's kind (``docsis-cm``, ``docsis-gw``, ``gpon-ont``);
3. the sink: ``--sink embedded`` (default) an ``EmbeddedStore`` in the temporary directory, the sink of an
   installation without InfluxDB; ``--sink influx`` an ``InfluxSink`` writing to a VictoriaMetrics started on
   loopback for the run (the InfluxDB write protocol; ``victoria-metrics`` from Debian), its spool in the
   temporary directory, read back afterwards to count what arrived; ``--sink null`` counts and discards
   samples, to measure the poller alone.

Then ``--cycles`` CPE cycles run one after the other, each printing wall time, CPEs/s, SNMP requests/s
(the client's ``stats``), CPU seconds of the poller process, failures (by error kind), and peak resident memory (VmHWM,
reset before each cycle through ``/proc/self/clear_refs``; ``ru_maxrss`` covers the whole process life).

Per-device limit: ``SnmpClient`` limits requests in flight per *agent address* (``per_device=2``). Real
CPEs each have their own address; here ~``cpes/agents`` CPEs share one simulated agent, so the benchmark's
client gets ``per_device = 2 * ceil(cpes / agents)``: every CPE keeps the budget of 2 it would have in the
field, and the global limit (``poll_concurrency``, 512 by default) is what bounds the cycle, as in production.

    .venv/bin/python benchmarks/fleet_cycle.py --cpes 100000 --agents 1000

The last line is machine-readable: ``cpes=<n> cycle_s=<n> cpes_per_s=<n> peak_rss_mib=<n> dropped=<n>
requests_per_cpe=<n>`` (``dropped``: samples the sink dropped during the last cycle, spooled ones not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from collectors.samples import Sample
from collectors.sim import SimulatedNetwork
from collectors.sim.config import NetworkConfig
from collectors.sinks import EmbeddedStore, InfluxSink, Sink
from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import SnmpClient
from collectors.snmp.device_poll import PollTarget, profile, read_raw
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.settings import Settings
from noc.inventory.models import Cpe, Credential
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.migrations import upgrade
from noc.polling import metrics
from noc.polling.models import CpeHealth, PollStatus
from noc.polling.service import CycleReport, Poller

ROOT = Path(__file__).resolve().parent.parent

COMMUNITY = "fleet-bench"
SECRET_KEY = "fleet-benchmark-secret-key-0123456789"
PROFILES = {"cable_modem": "docsis-cm", "gateway": "docsis-gw", "ont": "gpon-ont"}
GOAL_S, GOAL_MIB = 300.0, 1024.0
MIB = 1024 * 1024


# --- measuring ----------------------------------------------------------------------------------------


def proc_status(key: str, pid: int | str = "self") -> float:
    """A ``kB`` line of /proc/<pid>/status in MiB (0 when absent)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ``clear_refs`` 5); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- setup --------------------------------------------------------------------------------------------


def start_simulator(tmp: Path, agents: int, seed: int) -> tuple[subprocess.Popen[bytes], list[dict[str, Any]]]:
    """The simulated fleet in its own process; returns it and its agents (name, kind, host, port...)."""
    config, inventory = tmp / "fleet.json", tmp / "agents.json"
    config.write_text(json.dumps({"seed": seed, "fleet": {"count": agents, "community": COMMUNITY}}))
    proc = subprocess.Popen([sys.executable, "-m", "collectors.sim", "--config", str(config),
                             "--inventory", str(inventory)], cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the simulator exited with status {proc.returncode}")
        with suppress(FileNotFoundError, json.JSONDecodeError):
            described: list[dict[str, Any]] = json.loads(inventory.read_text())["agents"]
            if len(described) == agents:
                return proc, described
        time.sleep(0.2)
    proc.kill()
    sys.exit("the simulator did not start within 300 s")


def populate(db: Database, box: SecretBox, agents: list[dict[str, Any]], cpes: int) -> None:
    """One sealed v2c credential and ``cpes`` CPEs, CPE i answering at agent i % len(agents)."""
    with db.engine.begin() as conn:
        credential_id = conn.execute(insert(Credential).returning(Credential.id), {
            "name": "fleet-v2c", "version": "v2c", "sealed": box.seal({"community": COMMUNITY})}).scalar_one()
        chunk: list[dict[str, Any]] = []
        for i in range(cpes):
            agent = agents[i % len(agents)]
            chunk.append({"serial": f"SN{i:08d}", "mac": f"02:10:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:"
                                                         f"{i >> 8 & 255:02x}:{i & 255:02x}",
                          "model": agent.get("model", agent["kind"]), "profile": PROFILES[agent["kind"]],
                          "address": agent["host"], "port": agent["port"], "credential_id": credential_id,
                          "enabled": True})
            if len(chunk) == 10_000:
                conn.execute(insert(Cpe), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(Cpe), chunk)


# --- requests per CPE against peers ---------------------------------------------------------------------


PEER_SHAPES = (("DOCSIS 3.0 modem, 32 DS / 8 US channels", "docsis-cm", {"kind": "cable_modem", "ds_channels": 32,
                                                                         "us_channels": 8}),
               ("DOCSIS 3.1 gateway with Wi-Fi (8 DS / 4 US, OFDM)", "docsis-gw", {"kind": "gateway", "ofdm": True}))


def exporter_module(name: str, roots: Sequence[str], get: Sequence[str], repetitions: int) -> list[str]:
    """An snmp_exporter module walking ``roots`` (each column its own walk, as snmp_exporter does)."""
    lines = [f"{name}:", "  version: 2", "  auth:", f"    community: {COMMUNITY}",
             f"  max_repetitions: {repetitions}", "  get:", *(f"  - {o}" for o in get), "  walk:",
             *(f"  - {r}" for r in roots), "  metrics:"]
    for n, root in enumerate(roots):
        lines += [f"  - name: c{n}", f"    oid: {root}", "    type: gauge", "    indexes:",
                  "    - labelname: idx", "      type: gauge"]
    return lines


def peer_requests(tmp: Path) -> dict[str, tuple[float, float, float]]:
    """Requests one poll of each shape takes: noc (its first and its later polls) and snmp_exporter walking the
    same columns, counted at the simulated agent."""
    agents = [{"name": f"peer{n}", "community": COMMUNITY, **shape} for n, (_, _, shape) in enumerate(PEER_SHAPES)]
    out: dict[str, tuple[float, float, float]] = {}
    with SimulatedNetwork(NetworkConfig.model_validate({"agents": agents})) as net:
        config = tmp / "snmp.yml"
        lines: list[str] = []
        for n, (_, prof, _) in enumerate(PEER_SHAPES):
            p = profile(prof)
            lines += exporter_module(f"m{n}", [*p.primary_walk_roots, *(r for t in p.fallback_plan for r in t.roots)],
                                     p.get_oids, 25)
        config.write_text("\n".join(lines) + "\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        exporter = subprocess.Popen(["prometheus-snmp-exporter", f"--config.file={config}",
                                     f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        try:
            for n, (label, prof, _) in enumerate(PEER_SHAPES):
                agent = net.agent(f"peer{n}")
                host, agent_port, community = net.endpoint(f"peer{n}")
                target = PollTarget("cpe", n, f"peer{n}", prof, Target(host, agent_port, V2c(community), 2.0, 1))
                counts = []
                for _ in range(2):
                    before = agent.stats.requests
                    client = SnmpClient()
                    asyncio.run(_read(client, target))
                    counts.append(agent.stats.requests - before)
                wait_for(f"http://127.0.0.1:{port}/metrics")
                before = agent.stats.requests
                with suppress(urllib.error.HTTPError):  # it walks all, then may refuse to expose 2-index tables
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/snmp?module=m{n}&target={host}:{agent_port}",
                                           timeout=30).read()
                out[label] = (counts[0], counts[1], agent.stats.requests - before)
        finally:
            exporter.terminate()
            exporter.wait(10)
    return out


def wait_for(url: str) -> None:
    """Wait until ``url`` answers (a server started for the run)."""
    deadline = time.monotonic() + 30
    while True:
        with suppress(OSError):
            urllib.request.urlopen(url, timeout=1).read()
            return
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer within 30 s")
        time.sleep(0.2)


async def _read(client: SnmpClient, target: PollTarget) -> None:
    try:
        await read_raw(client, target, profile(target.profile))
    finally:
        await client.close()


@contextmanager
def victoria_metrics(tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A VictoriaMetrics on a free loopback port for the run; yields its process and URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(["victoria-metrics", f"-storageDataPath={tmp / 'vm'}", f"-httpListenAddr=127.0.0.1:{port}",
                             "-loggerLevel=ERROR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"{url}/health")
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(30)


def vm_rows(url: str) -> int:
    """Rows (one per field of a line) VictoriaMetrics took in over the InfluxDB protocol."""
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith('vm_rows_inserted_total{type="influx"}'))


class NullSink:
    """A sink that counts and discards samples (``--sink null``)."""

    def __init__(self) -> None:
        self.points = 0

    def write(self, samples: Sequence[Sample]) -> None:
        self.points += len(samples)

    def room(self) -> int:
        return sys.maxsize

    def flush(self, timeout: float | None = None) -> None:
        return None

    def close(self) -> None:
        return None

    def stats(self) -> dict[str, float]:
        return {"points_written_total": float(self.points), "points_dropped_total": 0.0}


class BenchPoller(Poller):
    """The poller with a per-device limit that gives every CPE behind a shared agent its own budget."""

    per_device = 2

    async def _make_client(self) -> SnmpClient:
        return SnmpClient(max_concurrency=self.settings.poll_concurrency, per_device=self.per_device)


# --- main ---------------------------------------------------------------------------------------------


def failure_kinds() -> dict[str, float]:
    """Failed CPE polls so far by error kind (``noc_poll_errors_total``)."""
    return {sample.labels["error"]: sample.value for metric in metrics.POLL_ERRORS.collect()
            for sample in metric.samples if sample.name.endswith("_total") and sample.labels["job"] == "cpes"}


def machine_idle() -> tuple[float, float]:
    """Idle and total CPU ticks of the machine so far (``/proc/stat``), all cores."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)


def run_cycle(poller: Poller, sink: Sink, peers: dict[str, int], n: int) -> tuple[CycleReport, dict[str, float]]:
    """One measured CPE cycle; prints its figures, the CPU of the ``peers`` processes (label: pid) beside the
    poller's and the share of the machine left idle, and returns them."""
    failures0 = failure_kinds()
    reset = reset_peak_rss()
    rss0 = proc_status("VmRSS")
    requests0 = poller.client.stats["requests"]
    before = dict(poller.client.stats)
    written0, dropped0, waited0 = (sink.stats().get(k, 0.0) for k in (
        "points_written_total", "points_dropped_total", "producer_wait_seconds_total"))
    cpu0, peer_cpu0, idle0 = time.process_time(), {k: proc_cpu(pid) for k, pid in peers.items()}, machine_idle()
    started = time.perf_counter()
    report = poller.cpe_cycle()
    wall = time.perf_counter() - started
    cpu, peer_cpu = time.process_time() - cpu0, {k: proc_cpu(pid) - peer_cpu0[k] for k, pid in peers.items()}
    idle = (machine_idle()[0] - idle0[0]) / max(machine_idle()[1] - idle0[1], 1)
    peak = proc_status("VmHWM")
    flush0 = time.perf_counter()
    sink.flush()
    drained = time.perf_counter() - flush0
    wall_stored = time.perf_counter() - started
    requests = poller.client.stats["requests"] - requests0
    delta = {k: v - before[k] for k, v in poller.client.stats.items()}
    stats = sink.stats()
    dropped = stats["points_dropped_total"] - dropped0
    figures = {"cycle_s": wall, "cpes_per_s": report.targets / wall, "requests_per_s": requests / wall,
               "peak_rss_mib": peak, "cpu_s": cpu, "dropped": dropped,
               "requests_per_cpe": requests / max(report.targets, 1), "stored_s": wall_stored}
    print(f"\ncycle {n}: {report.targets:,} CPEs in {wall:.1f} s = {report.targets / wall:,.0f} CPEs/s; "
          f"{report.ok:,} ok, {report.failed:,} failed; {report.samples:,} samples")
    kinds = {k: v - failures0.get(k, 0.0) for k, v in failure_kinds().items()}
    if any(kinds.values()):
        print("  failed polls by kind: " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(kinds.items()) if v))
    print(f"  SNMP: {requests:,} requests = {requests / wall:,.0f}/s, {requests / max(report.targets, 1):.1f} "
          f"per CPE; {delta['retries']:,} retransmissions, {delta['timeouts']:,} timeouts, "
          f"{delta['unmatched']:,} late answers")
    print(f"  CPU: poller {cpu:.1f} s ({cpu / wall:.0%} of one core), "
          + ", ".join(f"{k} {v:.1f} s ({v / wall:.0%})" for k, v in peer_cpu.items())
          + f"; machine idle {idle:.0%}")
    print(f"  memory: RSS {rss0:.0f} MiB before, peak {peak:.0f} MiB during the cycle"
          f"{'' if reset else ' (VmHWM not resettable: peak since process start)'}, {proc_status('VmRSS'):.0f} "
          f"MiB after")
    print(f"  sink: {stats['points_written_total'] - written0:,.0f} points stored, {dropped:,.0f} dropped, "
          f"{stats.get('points_spooled_total', 0.0):,.0f} spooled in total; the poller waited "
          f"{stats.get('producer_wait_seconds_total', 0.0) - waited0:.1f} s for room in its queue; "
          f"drained {drained:.1f} s after the cycle "
          f"(all stored {wall_stored:.1f} s after the cycle began)")
    return report, figures


@contextmanager
def open_sink(kind: str, tmp: Path) -> Iterator[tuple[Sink, subprocess.Popen[bytes] | None, str | None]]:
    """The sink ``--sink`` names (and the VictoriaMetrics process and URL behind an influx sink)."""
    if kind == "embedded":
        yield EmbeddedStore(tmp / "series" / "series.db"), None, None
    elif kind == "influx":
        with victoria_metrics(tmp) as (vm, url):
            yield InfluxSink(url, "noc", "noc", "unused-token", tmp / "spool"), vm, url
    else:
        yield NullSink(), None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpes", type=int, default=100_000, help="CPEs in the inventory")
    parser.add_argument("--agents", type=int, default=1_000, help="simulated CPE agents (CPEs share them)")
    parser.add_argument("--cycles", type=int, default=1, help="CPE cycles to run one after the other")
    parser.add_argument("--concurrency", type=int, default=Settings.model_fields["poll_concurrency"].default,
                        help="poll_concurrency: SNMP requests in flight at once")
    parser.add_argument("--timeout", type=float, default=2.0, help="snmp_timeout_s")
    parser.add_argument("--retries", type=int, default=1, help="snmp_retries")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated fleet")
    parser.add_argument("--sink", choices=["embedded", "influx", "null"], default="embedded",
                        help="EmbeddedStore, InfluxSink to a VictoriaMetrics on loopback, or a sink that discards "
                             "samples (the poller alone)")
    args = parser.parse_args()
    if args.agents < 1 or args.cpes < 1:
        parser.error("--cpes and --agents must be at least 1")

    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}; {args.cpes:,} CPEs on {args.agents:,} "
          f"simulated agents (one simulator process), SQLite, {args.sink} sink")
    with tempfile.TemporaryDirectory(prefix="noc-fleet-") as tmp_name:
        tmp = Path(tmp_name)
        print("\nSNMP requests of one poll (counted at the simulated agent; same columns, fallbacks included):")
        print("  device | noc, first poll | noc, later polls | snmp_exporter 0.21 (a walk per column, 25 repetitions)")
        for label, (first, later, exporter) in peer_requests(tmp).items():
            print(f"  {label} | {first:.0f} | {later:.0f} | {exporter:.0f}")
        t0 = time.perf_counter()
        sim, agents = start_simulator(tmp, args.agents, args.seed)
        try:
            print(f"simulator: {len(agents):,} agents up in {time.perf_counter() - t0:.1f} s, "
                  f"RSS {proc_status('VmRSS', sim.pid):.0f} MiB (pid {sim.pid})")
            settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'noc.db'}",
                                secret_key=SECRET_KEY, influx_url=None, poll_concurrency=args.concurrency,
                                snmp_timeout_s=args.timeout, snmp_retries=args.retries)
            db = Database(settings.resolved_database_url())
            upgrade(db)
            box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
            t0 = time.perf_counter()
            populate(db, box, agents, args.cpes)
            print(f"inventory: {args.cpes:,} CPEs inserted in {time.perf_counter() - t0:.1f} s")
            BenchPoller.per_device = 2 * math.ceil(args.cpes / len(agents))
            with open_sink(args.sink, tmp) as (sink, vm, vm_url):
                peers = {"simulator": sim.pid} | ({"VictoriaMetrics": vm.pid} if vm else {})
                poller = BenchPoller(db, settings, sink, box, EventBus())
                print(f"client: poll_concurrency {args.concurrency}, per_device {BenchPoller.per_device}, "
                      f"timeout {args.timeout:g} s, retries {args.retries}")
                results = []
                try:
                    for n in range(1, args.cycles + 1):
                        results.append(run_cycle(poller, sink, peers, n))
                finally:
                    poller.close()
                    sink.close()
                if vm_url:
                    print(f"VictoriaMetrics: {vm_rows(vm_url):,} rows (fields) taken in over the InfluxDB protocol")
            with db.session() as s:
                statuses = s.scalar(select(func.count()).select_from(PollStatus)) or 0
                health = s.scalar(select(func.count()).select_from(CpeHealth)) or 0
                grades = dict(s.execute(select(CpeHealth.grade, func.count()).group_by(CpeHealth.grade)).all())
            db.dispose()
        finally:
            sim.terminate()
            sim.wait(30)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ndatabase: {statuses:,} poll_status rows, {health:,} cpe_health rows; grades {grades}")
    report, last = results[-1]
    fits_time, fits_memory = last["cycle_s"] <= GOAL_S, last["peak_rss_mib"] < GOAL_MIB
    print(f"peak RSS over the whole run (ru_maxrss, incl. setup): {maxrss:.0f} MiB")
    print(f"goal: {args.cpes:,} CPEs within {GOAL_S:.0f} s: {'yes' if fits_time else 'NO'} "
          f"({last['cycle_s']:.1f} s); under {GOAL_MIB:.0f} MiB: {'yes' if fits_memory else 'NO'} "
          f"({last['peak_rss_mib']:.0f} MiB)")
    print(f"cpes={report.targets} cycle_s={last['cycle_s']:.1f} cpes_per_s={last['cpes_per_s']:.0f} "
          f"peak_rss_mib={last['peak_rss_mib']:.0f} dropped={last['dropped']:.0f} "
          f"requests_per_cpe={last['requests_per_cpe']:.1f}")


if __name__ == "__main__":
    main()
