"""`noc demo` as a user runs it: a real process on a real port, stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


def free_udp_base() -> int:
    """A first port for the simulated devices whose 5 device and 200 CPE ports (+10000) are free now."""
    for _ in range(50):
        base = random.randrange(21000, 29000, 10)
        socks = []
        try:
            for p in [*range(base, base + 5), *range(base + 10000, base + 10200)]:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.fail("no free UDP port range for the simulated network")


def start_demo(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    return subprocess.Popen(
        [sys.executable, "-m", "noc", "demo", "--data-dir", str(data_dir), "--port", str(port),
         "--sim-port-base", str(free_udp_base()), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


def wait_healthy(base: str, proc: subprocess.Popen[str], limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            pytest.fail(f"demo exited early: {proc.stdout.read() if proc.stdout else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"demo not healthy within {limit} s")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    return proc.returncode, out


@pytest.mark.slow
def test_demo_serves_within_15_s_with_role_tokens_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir, port = tmp_path / ".noc-demo", free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_demo(data_dir, port)
    try:
        wait_healthy(base, proc, 15)
        tokens = json.loads((data_dir / "tokens.json").read_text())
        assert set(tokens) == {"admin", "noc_engineer", "agent", "complaint_handler", "viewer"}
        assert httpx.get(f"{base}/api/v1/subscribers").status_code == 401
        viewer = httpx.get(f"{base}/api/v1/subscribers", headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert viewer.status_code == 403
        admin = httpx.get(f"{base}/api/v1/subscribers", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert admin.status_code == 200 and admin.json()["total"] == 200
        segments = httpx.get(f"{base}/api/v1/segments?limit=100",
                             headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()["items"]
        kinds = sorted(s["kind"] for s in segments)
        assert kinds == ["access"] * 4 + ["aggregation", "core", "international"]
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert "Traceback" not in out and tokens["admin"] in out

    # A second start keeps the data and issues fresh tokens; --reset starts over.
    proc = start_demo(data_dir, port)
    try:
        wait_healthy(base, proc, 15)
        fresh = json.loads((data_dir / "tokens.json").read_text())
        assert fresh["admin"] != tokens["admin"]
        old = httpx.get(f"{base}/api/v1/subscribers", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert old.status_code == 401
    finally:
        code, out = stop(proc)
    assert code == 0 and "demo inventory created" not in out


@pytest.mark.slow
def test_demo_shows_live_network_and_raises_one_ticket_for_the_climbing_segment(tmp_path: Path) -> None:
    """Within a minute: utilization moving on all 7 segments and CPE health for all 200 CPEs.
    Within 5 minutes: exactly one open upgrade ticket, for sg-maribor-1, with evidence and a chart."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_demo(tmp_path / ".noc-demo", port)
    started = time.monotonic()
    try:
        wait_healthy(base, proc, 15)
        token = json.loads((tmp_path / ".noc-demo" / "tokens.json").read_text())["noc_engineer"]
        headers = {"Authorization": f"Bearer {token}"}
        seen: dict[str, list[float]] = {}
        grades: dict[str, int] = {}
        while time.monotonic() - started < 60:
            for segment in httpx.get(f"{base}/api/v1/capacity/now", headers=headers).json():
                if segment["down"] is not None:
                    values = seen.setdefault(segment["name"], [])
                    if not values or values[-1] != segment["down"]["utilization"]:
                        values.append(segment["down"]["utilization"])
            grades = httpx.get(f"{base}/api/v1/health/cpes", headers=headers).json()["grades"]
            if len(seen) == 7 and all(len(v) >= 2 for v in seen.values()) and sum(grades.values()) == 200:
                break
            time.sleep(2)
        live_after = time.monotonic() - started
        tickets: list[dict[str, object]] = []
        while time.monotonic() - started < 300 and not tickets:
            tickets = httpx.get(f"{base}/api/v1/tickets?active=true", headers=headers).json()["items"]
            time.sleep(5)
        ticket_after = time.monotonic() - started
        time.sleep(35)  # one more evaluation: the breach goes on, still one ticket
        tickets = httpx.get(f"{base}/api/v1/tickets?active=true", headers=headers).json()["items"]
        chart = httpx.get(f"{base}{tickets[0]['chart']}", headers=headers) if tickets else None
    finally:
        stop(proc)
    assert len(seen) == 7, seen
    assert all(len(v) >= 2 and all(0 < x < 1 for x in v) for v in seen.values()), seen  # moving, below 100 %
    assert sum(grades.values()) == 200 and grades.get("bad", 0) >= 1 and grades.get("unreachable", 0) >= 1
    assert live_after < 60
    assert ticket_after < 300, "no ticket within 5 minutes"
    assert [(t["segment"], t["rule"], t["state"]) for t in tickets] == [("sg-maribor-1", "sustained", "open")]
    assert len(tickets[0]["evidence"]) >= 3  # type: ignore[arg-type]
    assert chart is not None and chart.status_code == 200 and "70 % upgrade threshold" in chart.text
