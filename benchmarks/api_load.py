"""The API under load: 200 concurrent clients doing mixed authenticated reads, on SQLite and on PostgreSQL.

The goal it checks (issue 9): 200 clients for 60 s against ``noc demo`` (the embedded default: SQLite, the
simulated network polled live, the jobs running) answer with **0 errors**, ``/health`` included; the same with
``noc serve`` on PostgreSQL. Setup, not timed:

- **sqlite**: ``noc demo --data-dir <tmp> --port <free>``; its admin token from ``tokens.json``;
- **pg**: a fresh schema in ``--pg`` (default ``$NOC_TEST_PG_URL`` or the local test database), ``noc db upgrade``,
  the demo inventory imported with ``noc inventory import``, ``noc user add bench --role admin``, then
  ``noc serve`` (scheduler on).

Timed: **wrk** (the C load generator, the peer that costs the server's two cores least) with ``--clients``
connections for ``--seconds``, each request a GET of the next of ten list endpoints with the admin token
(packages, devices, segments, CPEs, subscribers — an audited read of personal data, so a write —, capacity now,
tickets, fleet health, poll status, maintenance windows). Beside it a probe asks ``/health`` once a second and
keeps its slowest answer. ``--before DIR`` runs the same against another checkout (e.g. ``/work/main``: the code
before issue 9) for comparison.

    .venv/bin/python benchmarks/api_load.py --clients 200 --seconds 60 [--db sqlite pg] [--before /work/main]

Each run's last line is machine-readable: ``run=<name> db=<db> clients=<n> requests=<n> rps=<n> p50_ms=<n>
p99_ms=<n> errors=<n> non2xx=<n> socket_errors=<n> health_max_ms=<n> health_failures=<n>``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
import yaml

from noc.inventory.demo_data import demo_document

PATHS = ["/api/v1/packages", "/api/v1/devices", "/api/v1/segments?limit=20", "/api/v1/cpes?limit=20",
         "/api/v1/subscribers?limit=20", "/api/v1/capacity/now", "/api/v1/tickets", "/api/v1/health/cpes",
         "/api/v1/polling/status?limit=20", "/api/v1/maintenance/windows"]
LUA = """
local paths = {%s}
local token = os.getenv("NOC_BENCH_TOKEN")
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Authorization"] = "Bearer " .. token})
end
"""
SECRET = "bench-secret-key-0123456789"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running noc process and how to reach it."""

    proc: subprocess.Popen[str]
    base: str
    token: str
    log: Path


def environment(code: Path | None, **extra: str) -> dict[str, str]:
    """The environment of a noc process: no NOC_ settings of ours, the code of ``code`` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    env.update(extra)
    return env


def noc(code: Path | None, env: dict[str, str], *args: str) -> str:
    """Run a noc command to completion; its stdout."""
    done = subprocess.run([sys.executable, "-m", "noc", *args], capture_output=True, text=True, env=env,
                          cwd=code or Path.cwd(), timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"noc {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def wait_healthy(base: str, proc: subprocess.Popen[str], log: Path) -> None:
    """Wait until ``/health`` answers (the process must not exit meanwhile)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit("server did not become healthy")


@contextmanager
def sqlite_demo(code: Path | None, work: Path) -> Iterator[Server]:
    """``noc demo`` in ``work``."""
    port, data, log = free_port(), work / "demo", work / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "noc", "demo", "--data-dir", str(data), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, text=True, env=environment(code),
                                cwd=code or Path.cwd(), start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc, log)
        token = json.loads((data / "tokens.json").read_text())["admin"]
        yield Server(proc, base, token, log)
    finally:
        stop(proc)


@contextmanager
def pg_serve(code: Path | None, work: Path, pg: str) -> Iterator[Server]:
    """``noc serve`` on a fresh schema of ``pg`` with the demo inventory."""
    schema = f"noc_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg else "?"
    port, log = free_port(), work / "serve.log"
    env = environment(code, NOC_DATABASE_URL=f"{pg}{sep}options=-csearch_path%3D{schema}", NOC_SECRET_KEY=SECRET,
                      NOC_DATA_DIR=str(work / "pg-data"), NOC_API_PORT=str(port))
    try:
        noc(code, env, "db", "upgrade")
        inventory = work / "inventory.yaml"
        inventory.write_text(yaml.safe_dump(demo_document(), allow_unicode=True))
        noc(code, env, "inventory", "import", str(inventory))
        token = next(w for w in noc(code, env, "user", "add", "bench", "--role", "admin").split() if
                     w.startswith("noc_"))
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "noc", "serve"], stdout=out, stderr=subprocess.STDOUT,
                                    text=True, env=env, cwd=code or Path.cwd(), start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, proc, log)
            yield Server(proc, base, token, log)
        finally:
            stop(proc)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a server we started (Ctrl-C, then kill)."""
    if proc.poll() is None:
        os.killpg(proc.pid, 2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@dataclass
class HealthProbe:
    """Asks ``/health`` once a second while the load runs; keeps the slowest answer and the failures."""

    base: str
    slowest_ms: float = 0.0
    failures: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.done.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(f"{self.base}/api/v1/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.slowest_ms = max(self.slowest_ms, (time.perf_counter() - started) * 1000)
                self.failures += not ok
                self.done.wait(1.0)


def ms(text: str) -> float:
    """wrk's duration (``812.00us``, ``12.5ms``, ``1.2s``) in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def load(server: Server, clients: int, seconds: int, work: Path) -> dict[str, float]:
    """Drive ``server`` with wrk; the figures of the run."""
    script = work / "paths.lua"
    script.write_text(LUA % ", ".join(f'"{p}"' for p in PATHS))
    probe = HealthProbe(server.base)
    thread = threading.Thread(target=probe.run, daemon=True)
    thread.start()
    done = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "60s",
                           "--latency", "-s", str(script), server.base], capture_output=True, text=True,
                          env={**os.environ, "NOC_BENCH_TOKEN": server.token}, timeout=seconds + 120)
    probe.done.set()
    thread.join()
    text = done.stdout
    print(text)
    requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(g) for g in sock.groups()) if sock else 0
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.MULTILINE))
    return {"requests": requests, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),  # type: ignore[union-attr]
            "p50_ms": ms(latency["50"]), "p99_ms": ms(latency["99"]), "errors": non2xx + socket_errors,
            "non2xx": non2xx, "socket_errors": socket_errors, "health_max_ms": round(probe.slowest_ms, 1),
            "health_failures": probe.failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "pg"], default=["sqlite", "pg"])
    parser.add_argument("--before", type=Path, help="another checkout to run the same against (e.g. /work/main)")
    parser.add_argument("--pg", default=os.environ.get("NOC_TEST_PG_URL",
                                                      "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    runs: list[tuple[str, Path | None]] = [("this", None)]
    if args.before is not None:
        runs.append(("before", args.before.resolve()))
    for name, code in runs:
        for db in args.db:
            with tempfile.TemporaryDirectory(prefix="noc-load-") as tmp:
                work = Path(tmp)
                start = sqlite_demo(code, work) if db == "sqlite" else pg_serve(code, work, args.pg)
                with start as server:
                    time.sleep(5)  # let the demo's first poll cycles settle
                    figures = load(server, args.clients, args.seconds, work)
                print(f"run={name} db={db} clients={args.clients} "
                      + " ".join(f"{k}={v:g}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
