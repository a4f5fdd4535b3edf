"""How fast noc's commands start: `noc --help`, an ad-hoc `noc poll` (against net-snmp's `snmpd`, beside
net-snmp's own `snmpwalk` of the same table as the peer), and `noc demo` until /api/v1/health answers and
until the simulated network is polled.

    .venv/bin/python benchmarks/startup.py --runs 5

Prints the median and range of each; the last line is machine-readable:
``help_s=<n> poll_s=<n> snmpwalk_s=<n> demo_healthy_s=<n> demo_ready_s=<n>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

NOC = [sys.executable, "-m", "noc"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}


def timed(run: Callable[[], None], runs: int) -> list[float]:
    """Wall seconds of ``runs`` calls of ``run``."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def command(*args: str, cwd: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)
    return run


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snmpd(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A net-snmp agent on a free loopback port, community ``public``."""
    port = free_port(socket.SOCK_DGRAM)
    conf = directory / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\n")
    proc = subprocess.Popen(["snmpd", "-f", "-Lo", "-C", "-c", str(conf), f"udp:127.0.0.1:{port}"],
                            env={**ENV, "MIBS": ""}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe = subprocess.run(["snmpget", "-m", "", "-v2c", "-c", "public", "-t", "0.5", "-r", "0",
                                f"127.0.0.1:{port}", ".1.3.6.1.2.1.1.3.0"], capture_output=True)
        if probe.returncode == 0:
            return proc, port
    proc.kill()
    raise SystemExit("snmpd did not answer within 20 s")


def demo_start(directory: Path) -> tuple[float, float]:
    """Seconds from `noc demo` starting until /api/v1/health answers, and until it says it is ready."""
    port = free_port(socket.SOCK_STREAM)
    started = time.perf_counter()
    proc = subprocess.Popen([*NOC, "demo", "--data-dir", str(directory / ".noc-demo"), "--port", str(port)],
                            cwd=directory, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    healthy = ready = 0.0
    try:
        while not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1) as answer:
                    if answer.status == 200:
                        healthy = time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
            if proc.poll() is not None:
                raise SystemExit(f"demo exited: {proc.stdout.read() if proc.stdout else ''}")
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("demo ready"):
                ready = time.perf_counter() - started
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return healthy, ready


def summary(name: str, values: list[float]) -> float:
    median = statistics.median(values)
    print(f"{name:<44} {median:6.2f} s  ({min(values):.2f}–{max(values):.2f}, {len(values)} runs)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--demo-runs", type=int, default=3)
    args = parser.parse_args()
    for tool in ("snmpd", "snmpget", "snmpwalk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/ensure-test-deps")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        agent, port = snmpd(work)
        try:
            address = f"127.0.0.1:{port}"
            help_s = summary("noc --help", timed(command(*NOC, "--help", cwd=work), args.runs))
            poll_s = summary("noc poll host --community (if-mib profile)",
                             timed(command(*NOC, "poll", address, "--community", "public", cwd=work), args.runs))
            walk_s = summary("snmpwalk ifTable + ifXTable (net-snmp)", timed(lambda: [
                subprocess.run(["snmpbulkwalk", "-m", "", "-v2c", "-c", "public", address, root], env=ENV,
                               check=True, capture_output=True)
                for root in (".1.3.6.1.2.1.2.2", ".1.3.6.1.2.1.31.1.1")], args.runs))
        finally:
            agent.terminate()
            agent.wait(timeout=10)
        starts = [demo_start(Path(tempfile.mkdtemp(dir=tmp))) for _ in range(args.demo_runs)]
        healthy_s = summary("noc demo until /api/v1/health answers", [h for h, _ in starts])
        ready_s = summary("noc demo until the network is polled", [r for _, r in starts])
    print(f"help_s={help_s:.2f} poll_s={poll_s:.2f} snmpwalk_s={walk_s:.2f} demo_healthy_s={healthy_s:.2f} "
          f"demo_ready_s={ready_s:.2f}")


if __name__ == "__main__":
    main()
