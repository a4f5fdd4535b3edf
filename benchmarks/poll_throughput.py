"""Poll throughput of noc's SNMP client against Prometheus snmp_exporter and net-snmp's snmpget.

Starts its own net-snmp agents on loopback, then in one run polls the same agents and the same 10
objects (scalars and ifTable/ifXTable columns of ifIndex 1, SNMPv2c GET):

1. with ``collectors.snmp.SnmpClient`` (optionally in several processes),
2. with snmp_exporter (a module with a ``get:`` list of the same OIDs), scraped over keep-alive HTTP
   with the same number of requests in flight and the same number of load-generator processes,
3. with ``snmpget`` (one process per poll),

and prints polls/s, CPU seconds per 1,000 polls, an estimate for a 100,000-CPE inventory polled every
5 minutes, and noc's resident memory while holding many requests in flight. The last line is
machine-readable: ``polls_per_s=<n> snmp_exporter_polls_per_s=<n> ratio=<n>``.

    .venv/bin/python benchmarks/poll_throughput.py --seconds 10 --processes 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

COMMUNITY = "public"
V3_USER, V3_AUTH, V3_PRIV = "bench", "bench-auth-pass", "bench-priv-pass"
OBJECTS: list[tuple[str, str, str, bool]] = [  # (oid, metric name, exporter type, indexed by ifIndex)
    ("1.3.6.1.2.1.1.3.0", "sysUpTime", "gauge", False),
    ("1.3.6.1.2.1.1.5.0", "sysName", "DisplayString", False),
    ("1.3.6.1.2.1.2.1.0", "ifNumber", "gauge", False),
    ("1.3.6.1.2.1.2.2.1.8.1", "ifOperStatus", "gauge", True),
    ("1.3.6.1.2.1.2.2.1.10.1", "ifInOctets", "counter", True),
    ("1.3.6.1.2.1.2.2.1.14.1", "ifInErrors", "counter", True),
    ("1.3.6.1.2.1.2.2.1.16.1", "ifOutOctets", "counter", True),
    ("1.3.6.1.2.1.31.1.1.1.6.1", "ifHCInOctets", "counter", True),
    ("1.3.6.1.2.1.31.1.1.1.10.1", "ifHCOutOctets", "counter", True),
    ("1.3.6.1.2.1.31.1.1.1.15.1", "ifHighSpeed", "gauge", True),
]
OIDS = [o[0] for o in OBJECTS]
CPE_FLEET, CYCLE_S = 100_000, 300


# --- helpers ----------------------------------------------------------------------------------------


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass
class Agents:
    """Several snmpd processes on 127.0.0.1, each on its own port."""

    ports: list[int]
    procs: list[subprocess.Popen[bytes]]

    @classmethod
    def start(cls, count: int, directory: Path) -> Agents:
        conf = directory / "snmpd.conf"
        conf.write_text(
            f"rocommunity {COMMUNITY} 127.0.0.1\ndontLogTCPWrappersConnects yes\n"
            f'createUser {V3_USER} SHA "{V3_AUTH}" AES "{V3_PRIV}"\nrouser {V3_USER} priv\n'
        )
        ports, procs = [], []
        env = {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(directory / "persist")}
        for _ in range(count):
            port = free_port(socket.SOCK_DGRAM)
            cmd = ["snmpd", "-f", "-C", "-c", str(conf), "-Lf", "/dev/null", "-I", "-smux", f"udp:127.0.0.1:{port}"]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            ports.append(port)
        agents = cls(ports, procs)
        for port in ports:
            for _ in range(100):
                if snmpget_once(port):
                    break
                time.sleep(0.1)
            else:
                agents.stop()
                raise RuntimeError(f"snmpd on port {port} did not start")
        return agents

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(10)


def snmpget_cmd(port: int) -> list[str]:
    return ["snmpget", "-m", "", "-v2c", "-c", COMMUNITY, "-t", "2", "-r", "1", "-On", f"127.0.0.1:{port}", *OIDS]


def snmpget_once(port: int) -> bool:
    env = {**os.environ, "MIBS": ""}
    cmd = snmpget_cmd(port)
    cmd[cmd.index("-t") + 1] = "0.2"
    return subprocess.run(cmd, capture_output=True, env=env, check=False).returncode == 0


# --- noc --------------------------------------------------------------------------------------------


def noc_worker(ports: list[int], per_agent: int, seconds: float, v3: bool, start_at: float) -> tuple[int, int, float]:
    """One process: poll every agent with ``per_agent`` requests in flight; (polls, errors, CPU s)."""
    return asyncio.run(_noc_worker(ports, per_agent, seconds, v3, start_at))


async def _noc_worker(
    ports: list[int], per_agent: int, seconds: float, v3: bool, start_at: float
) -> tuple[int, int, float]:
    from collectors.snmp.auth import V3, Target, V2c
    from collectors.snmp.client import SnmpClient, SnmpError

    client = SnmpClient(max_concurrency=512, per_device=per_agent)
    creds = V3(V3_USER, "SHA", V3_AUTH, "AES", V3_PRIV) if v3 else V2c(COMMUNITY)
    targets = [Target("127.0.0.1", port, creds, timeout=2.0, retries=1) for port in ports]
    for target in targets:
        got = await client.get(target, OIDS)
        assert len(got) == len(OIDS), f"agent answered {len(got)} of {len(OIDS)} objects"
    await asyncio.sleep(max(0.0, start_at - time.time()))
    polls = errors = 0
    stop = time.monotonic() + seconds

    async def loop(target: Target) -> None:
        nonlocal polls, errors
        while time.monotonic() < stop:
            try:
                await client.get(target, OIDS)
                polls += 1
            except SnmpError:
                errors += 1

    cpu0 = time.process_time()
    await asyncio.gather(*(loop(t) for t in targets for _ in range(per_agent)))
    cpu = time.process_time() - cpu0
    await client.close()
    return polls, errors, cpu


def rss_worker(in_flight: int) -> tuple[float, float, int]:
    """RSS (MB) before and while ``in_flight`` GETs wait on unresponsive loopback addresses."""
    return asyncio.run(_rss_worker(in_flight))


async def _rss_worker(in_flight: int) -> tuple[float, float, int]:
    from collectors.snmp.auth import Target, V2c
    from collectors.snmp.client import SnmpClient

    per_device = 4
    client = SnmpClient(max_concurrency=in_flight, per_device=per_device)
    devices = in_flight // per_device
    # 127.1.x.y:161 — loopback addresses where nothing listens: every request stays in flight
    hosts = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(devices)]
    targets = [Target(host, 161, V2c(COMMUNITY), timeout=30, retries=0) for host in hosts]
    warm = Target("127.1.255.1", 161, V2c(COMMUNITY), timeout=0.01, retries=0)
    await asyncio.gather(client.get(warm, OIDS), return_exceptions=True)  # open the socket, fill the caches
    before = rss_mb()
    tasks = [asyncio.create_task(client.get(t, OIDS)) for t in targets for _ in range(per_device)]
    for _ in range(200):
        await asyncio.sleep(0.05)
        if client.in_flight >= len(tasks):
            break
    during, held = rss_mb(), client.in_flight
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.close()
    return before, during, held


# --- snmp_exporter ------------------------------------------------------------------------------------


def exporter_config(path: Path) -> None:
    lines = ["noc_bench:", "  version: 2", "  auth:", f"    community: {COMMUNITY}", "  get:"]
    lines += [f"  - {oid}" for oid in OIDS]
    lines.append("  metrics:")
    for oid, name, kind, indexed in OBJECTS:
        lines += [f"  - name: {name}", f"    oid: {oid.rsplit('.', 1)[0]}", f"    type: {kind}"]
        if indexed:
            lines += ["    indexes:", "    - labelname: ifIndex", "      type: gauge"]
    path.write_text("\n".join(lines) + "\n")


def scrape_worker(
    http_port: int, agent_ports: list[int], per_agent: int, seconds: float, start_at: float
) -> tuple[int, int, float]:
    """One load-generator process: keep-alive HTTP scrapes, ``per_agent`` in flight per agent."""
    return asyncio.run(_scrape_worker(http_port, agent_ports, per_agent, seconds, start_at))


async def _scrape_worker(
    http_port: int, agent_ports: list[int], per_agent: int, seconds: float, start_at: float
) -> tuple[int, int, float]:
    ok = bad = 0
    expect = f"snmp_scrape_pdus_returned {len(OIDS)}\n".encode()

    async def connection(agent_port: int, stop: float | None) -> None:
        nonlocal ok, bad
        reader, writer = await asyncio.open_connection("127.0.0.1", http_port)
        request = (
            f"GET /snmp?module=noc_bench&target=127.0.0.1:{agent_port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        ).encode()
        try:
            while True:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                chunked = False
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                        chunked = True
                if chunked:
                    body = b""
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        body += await reader.readexactly(size + 2)
                        if size == 0:
                            break
                else:
                    body = await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200") and expect in body:
                    ok += 1
                else:
                    bad += 1
                if stop is None or time.monotonic() >= stop:
                    return
        finally:
            writer.close()

    for agent_port in agent_ports:  # check the module answers every object before timing
        await connection(agent_port, None)
    if bad:
        raise RuntimeError("snmp_exporter did not return all objects")
    ok = 0
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu0 = time.process_time()
    stop = time.monotonic() + seconds
    await asyncio.gather(*(connection(p, stop) for p in agent_ports for _ in range(per_agent)))
    return ok, bad, time.process_time() - cpu0


# --- snmpget ------------------------------------------------------------------------------------------


async def snmpget_run(ports: list[int], concurrency: int, seconds: float) -> tuple[int, int]:
    ok = bad = 0
    stop = time.monotonic() + seconds
    env = {**os.environ, "MIBS": ""}

    async def loop(i: int) -> None:
        nonlocal ok, bad
        while time.monotonic() < stop:
            proc = await asyncio.create_subprocess_exec(
                *snmpget_cmd(ports[i % len(ports)]), stdout=asyncio.subprocess.DEVNULL, env=env
            )
            if await proc.wait() == 0:
                ok += 1
            else:
                bad += 1

    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return ok, bad


# --- main -----------------------------------------------------------------------------------------------


def run_pool(processes: int, fn, *args) -> tuple[list[tuple[int, int, float]], float]:  # type: ignore[no-untyped-def]
    """Run ``fn(*args, start_at)`` in ``processes`` fresh processes started together; (results, wall s)."""
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        list(pool.map(abs, range(processes)))  # start the interpreters before timing
        start_at = time.time() + 1.0 + 0.3 * processes
        futures = [pool.submit(fn, *args, start_at) for _ in range(processes)]
        results = [f.result() for f in futures]
    return results, start_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per contender")
    parser.add_argument("--agents", type=int, default=4, help="snmpd instances")
    parser.add_argument("--processes", type=int, default=1, help="noc worker (and HTTP load) processes")
    parser.add_argument("--in-flight", type=int, default=16, help="requests in flight per agent (all processes)")
    parser.add_argument("--snmpget-seconds", type=float, default=3.0)
    parser.add_argument("--v3-seconds", type=float, default=3.0, help="extra SNMPv3 authPriv run (0: skip)")
    parser.add_argument("--rss-in-flight", type=int, default=20_000)
    args = parser.parse_args()
    for tool in ("snmpd", "snmpget", "prometheus-snmp-exporter"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install snmpd snmp prometheus-snmp-exporter)")
    per_agent = max(1, args.in_flight // args.processes)
    cores = os.cpu_count() or 1

    print(f"machine: {cores} cores, Python {sys.version.split()[0]}; {args.agents} snmpd agents on loopback")
    print(f"poll: SNMPv2c GET of {len(OIDS)} objects; {per_agent * args.processes} in flight per agent")
    with tempfile.TemporaryDirectory(prefix="noc-bench-") as tmp:
        agents = Agents.start(args.agents, Path(tmp))
        exporter: subprocess.Popen[bytes] | None = None
        try:
            # 1. noc
            agent_cpu0 = agents.cpu()
            results, _ = run_pool(args.processes, noc_worker, agents.ports, per_agent, args.seconds, False)
            agent_cpu = agents.cpu() - agent_cpu0
            polls = sum(r[0] for r in results)
            noc_rate = polls / args.seconds
            noc_cpu = sum(r[2] for r in results) / max(polls, 1) * 1000
            errors = sum(r[1] for r in results)
            print(f"\nnoc SnmpClient, {args.processes} process(es): {noc_rate:,.0f} polls/s, errors {errors}")
            print(f"  client CPU {noc_cpu:.3f} s per 1,000 polls; agents' CPU {agent_cpu / max(polls, 1) * 1000:.3f} s")
            if args.v3_seconds > 0:
                results, _ = run_pool(args.processes, noc_worker, agents.ports, per_agent, args.v3_seconds, True)
                v3_polls = sum(r[0] for r in results)
                print(
                    f"  same with SNMPv3 authPriv (SHA/AES-128): {v3_polls / args.v3_seconds:,.0f} polls/s, "
                    f"client CPU {sum(r[2] for r in results) / max(v3_polls, 1) * 1000:.3f} s per 1,000 polls"
                )

            # 2. snmp_exporter
            config = Path(tmp) / "snmp.yml"
            exporter_config(config)
            http_port = free_port(socket.SOCK_STREAM)
            exporter = subprocess.Popen(
                ["prometheus-snmp-exporter", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{http_port}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(100):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", http_port)) == 0:
                        break
                time.sleep(0.1)
            exp_cpu0, agent_cpu0 = proc_cpu(exporter.pid), agents.cpu()
            results, _ = run_pool(args.processes, scrape_worker, http_port, agents.ports, per_agent, args.seconds)
            exp_cpu, agent_cpu = proc_cpu(exporter.pid) - exp_cpu0, agents.cpu() - agent_cpu0
            scrapes = sum(r[0] for r in results)
            exp_rate = scrapes / args.seconds
            per_k = 1000 / max(scrapes, 1)
            print(f"\nsnmp_exporter (Go), HTTP included: {exp_rate:,.0f} polls/s, failed {sum(r[1] for r in results)}")
            print(
                f"  exporter CPU {exp_cpu * per_k:.3f} s per 1,000 polls (+ HTTP load generator "
                f"{sum(r[2] for r in results) * per_k:.3f} s); agents' CPU {agent_cpu * per_k:.3f} s"
            )
            exporter.terminate()
            exporter.wait(10)
            exporter = None

            # 3. snmpget, one process per poll
            cpu0 = children_cpu()
            ok, bad = asyncio.run(snmpget_run(agents.ports, cores * 2, args.snmpget_seconds))
            get_rate = ok / args.snmpget_seconds
            print(f"\nnet-snmp snmpget, process per poll, {cores * 2} at a time: {get_rate:,.0f} polls/s, failed {bad}")
            print(f"  snmpget CPU {(children_cpu() - cpu0) / max(ok, 1) * 1000:.3f} s per 1,000 polls")
        finally:
            if exporter is not None:
                exporter.terminate()
                exporter.wait(10)
            agents.stop()

    # 4. memory with many requests in flight
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        before, during, held = pool.submit(rss_worker, args.rss_in_flight).result()
    per_request = (during - before) * 1024 * 1024 / max(held, 1)
    print(
        f"\nnoc RSS: {before:.1f} MB idle, {during:.1f} MB with {held:,} requests in flight ({per_request:,.0f} B each)"
    )

    ratio = noc_rate / max(exp_rate, 1e-9)
    need = CPE_FLEET / CYCLE_S
    print("\nratios (noc / peer):")
    print(f"  vs snmp_exporter: {ratio:.2f}x   vs snmpget process-per-poll: {noc_rate / max(get_rate, 1e-9):.1f}x")
    print(
        f"\n{CPE_FLEET:,} CPEs, one 10-object GET each per {CYCLE_S // 60}-minute cycle = {need:,.0f} polls/s:"
        f"\n  one noc process at the measured rate polls them in {CPE_FLEET / max(noc_rate, 1e-9):,.0f} s"
        f" ({need / max(noc_rate, 1e-9):.0%} of the cycle), client CPU {need * noc_cpu / 1000:.2f} cores;"
        f"\n  with 20 ms RTT that needs ~{need * 0.02:,.0f} requests in flight; 5 % of CPEs offline at 2 s x 2"
        f" attempts hold ~{CPE_FLEET * 0.05 * 4 / CYCLE_S:,.0f} more (default bound 512);"
        f"\n  snmp_exporter at its measured rate: {CPE_FLEET / max(exp_rate, 1e-9):,.0f} s;"
        f" snmpget: {CPE_FLEET / max(get_rate, 1e-9):,.0f} s"
    )
    print(f"polls_per_s={noc_rate:.0f} snmp_exporter_polls_per_s={exp_rate:.0f} ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
