"""`noc demo` as a user runs it: a real process on a real port, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port


def start_demo(data_dir: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    return subprocess.Popen(
        [sys.executable, "-m", "noc", "demo", "--data-dir", str(data_dir), "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


def wait_healthy(base: str, proc: subprocess.Popen[str], limit: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            pytest.fail(f"demo exited early: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
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
