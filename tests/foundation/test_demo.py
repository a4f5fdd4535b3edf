"""`noc demo` as a user runs it: real processes on real ports, stopped with Ctrl-C.

One demo process is shared by the tests that only read from it; the tests of starting, restarting and
running two demos at once start their own. Waits are generous (a busy 2-core machine is slow at times);
how fast the demo becomes healthy is measured in benchmarks/demo_startup.py, not here.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

HEALTHY_WITHIN_S = 120
SERVING = re.compile(r"noc demo on http://127\.0\.0\.1:(\d+)")


@dataclass
class Demo:
    """A running `noc demo` process and everything it has printed so far."""

    proc: subprocess.Popen[str]
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        """Everything the demo printed."""
        return "".join(self.lines)

    def url(self) -> str:
        """The base URL the demo says it serves on (waits for that line)."""
        deadline = time.monotonic() + HEALTHY_WITHIN_S
        while time.monotonic() < deadline:
            if match := SERVING.search(self.log):
                return f"http://127.0.0.1:{match[1]}"
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"the demo never said where it serves; its output:\n{self.log}")

    def wait_healthy(self) -> str:
        """Wait until /api/v1/health answers 200; fail with the demo's output otherwise."""
        base = self.url()
        deadline = time.monotonic() + HEALTHY_WITHIN_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"demo exited early with {self.proc.returncode}; its output:\n{self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    return base
            time.sleep(0.2)
        pytest.fail(f"demo not healthy within {HEALTHY_WITHIN_S} s (waited for {base}/api/v1/health); "
                    f"its output:\n{self.log}")

    def tokens(self) -> dict[str, str]:
        """The role tokens the demo wrote."""
        return dict(json.loads((self.data_dir / "tokens.json").read_text()))

    def stop(self) -> int:
        """Ctrl-C, then wait for the exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                pytest.fail(f"demo did not stop within 60 s of Ctrl-C; its output:\n{self.log}")
        return self.proc.returncode


def start_demo(data_dir: Path, *args: str, global_data_dir: bool = False) -> Demo:
    """Start `noc demo` in ``data_dir`` (as `noc --data-dir D demo` with ``global_data_dir``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    where = ["--data-dir", str(data_dir)]
    cmd = [sys.executable, "-m", "noc", *(where if global_data_dir else []), "demo",
           *([] if global_data_dir else where), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return Demo(proc, data_dir)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, str]]:
    """One demo shared by the reading tests of this module: (demo, base URL)."""
    running = start_demo(tmp_path_factory.mktemp("shared") / ".noc-demo", "--port", str(free_port()))
    try:
        yield running, running.wait_healthy()
    finally:
        code = running.stop()
    assert code == 0 and "Traceback" not in running.log, running.log


def get(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """A GET with room for a loaded machine (httpx's default of 5 s timed out under a busy test run)."""
    return httpx.get(url, headers=headers, timeout=60)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_role_tokens_and_the_demo_inventory(demo: tuple[Demo, str]) -> None:
    running, base = demo
    tokens = running.tokens()
    assert set(tokens) == {"admin", "noc_engineer", "agent", "complaint_handler", "viewer"}
    assert get(f"{base}/api/v1/subscribers").status_code == 401
    assert get(f"{base}/api/v1/subscribers", headers=auth(tokens["viewer"])).status_code == 403
    admin = get(f"{base}/api/v1/subscribers", headers=auth(tokens["admin"]))
    assert admin.status_code == 200 and admin.json()["total"] == 200
    segments = get(f"{base}/api/v1/segments?limit=100", headers=auth(tokens["viewer"])).json()["items"]
    assert sorted(s["kind"] for s in segments) == ["access"] * 4 + ["aggregation", "core", "international"]
    assert get(f"{base}/api/v1/openapi.json").status_code == 200
    for token in tokens.values():  # tokens live in tokens.json (0600), never in the demo's output
        assert token not in running.log


@pytest.mark.slow
def test_demo_shows_live_network_and_raises_one_ticket_for_the_climbing_segment(demo: tuple[Demo, str]) -> None:
    """Within a minute of being healthy: utilization moving on all 7 segments and CPE health for all 200 CPEs.
    Within 5 minutes: exactly one open upgrade ticket, for sg-maribor-1, with evidence and a chart."""
    running, base = demo
    headers = auth(running.tokens()["noc_engineer"])
    started = time.monotonic()
    seen: dict[str, list[float]] = {}
    grades: dict[str, int] = {}
    while time.monotonic() - started < 90:
        for segment in get(f"{base}/api/v1/capacity/now", headers=headers).json():
            if segment["down"] is not None:
                values = seen.setdefault(segment["name"], [])
                if not values or values[-1] != segment["down"]["utilization"]:
                    values.append(segment["down"]["utilization"])
        grades = get(f"{base}/api/v1/health/cpes", headers=headers).json()["grades"]
        if len(seen) == 7 and all(len(v) >= 2 for v in seen.values()) and sum(grades.values()) == 200:
            break
        time.sleep(2)
    assert len(seen) == 7, f"segments with utilization after {time.monotonic() - started:.0f} s: {seen}"
    assert all(len(v) >= 2 and all(0 < x < 1 for x in v) for v in seen.values()), seen  # moving, below 100 %
    assert sum(grades.values()) == 200 and grades.get("bad", 0) >= 1 and grades.get("unreachable", 0) >= 1, grades
    tickets: list[dict[str, object]] = []
    while time.monotonic() - started < 360 and not tickets:
        tickets = get(f"{base}/api/v1/tickets?active=true", headers=headers).json()["items"]
        time.sleep(5)
    assert tickets, f"no ticket after {time.monotonic() - started:.0f} s; the demo's output:\n{running.log}"
    time.sleep(35)  # one more evaluation: the breach goes on, still one ticket
    tickets = get(f"{base}/api/v1/tickets?active=true", headers=headers).json()["items"]
    assert [(t["segment"], t["rule"], t["state"]) for t in tickets] == [("sg-maribor-1", "sustained", "open")]
    assert len(tickets[0]["evidence"]) >= 3  # type: ignore[arg-type]
    chart = get(f"{base}{tickets[0]['chart']}", headers=headers)
    assert chart.status_code == 200 and "70 % upgrade threshold" in chart.text


@pytest.mark.slow
def test_demo_mails_maintenance_notices_into_its_sink(demo: tuple[Demo, str]) -> None:
    """The demo's planned works are announced to their subscribers; the mails land as .eml files whose opt-out
    link works on the demo."""
    running, base = demo
    mail_dir = running.data_dir / "mail"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(mail_dir.glob("*.eml"))) < 48:
        time.sleep(1)
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 48, f"{len(files)} mails after 120 s in {mail_dir}; the demo's output:\n{running.log}"
    assert str(mail_dir.resolve()) in running.log
    mails = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert {m["Content-Language"] for m in mails} == {"sl", "en"}
    link = str(mails[0]["List-Unsubscribe"]).strip("<> ")
    assert link.startswith(f"{base}/optout/")
    page = get(link)
    assert page.status_code == 200 and "<form" in page.text
    notices = get(f"{base}/api/v1/maintenance/windows/1/notices",
                 headers=auth(running.tokens()["noc_engineer"])).json()
    assert [(n["kind"], n["sent"], n["opted_out"]) for n in notices] == [("announcement", 48, 2)]


@pytest.mark.slow
def test_demo_log_is_quiet_and_in_one_time_zone(demo: tuple[Demo, str]) -> None:
    running, base = demo
    time.sleep(25)  # a few segment cycles
    lines = running.lines[:]
    assert not [line for line in lines if "Running job" in line or "executed successfully" in line]
    stamped = [line for line in lines if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}Z ", line)]
    assert stamped and all(" INFO " in line or " WARNING " in line or " ERROR " in line for line in stamped)
    assert any("segments cycle:" in line for line in lines)
    jobs = get(f"{base}/api/v1/health").json()["scheduler"]["jobs"]
    assert jobs and all(j["next_run"].endswith("+00:00") for j in jobs if j["next_run"])


@pytest.mark.slow
def test_two_demos_at_once_both_become_healthy(tmp_path: Path) -> None:
    """Same requested port, no simulator ports given, started together in two directories (one with the global
    --data-dir): each picks its own free ports and both serve."""
    port = free_port()
    first = start_demo(tmp_path / "one", "--port", str(port))
    second = start_demo(tmp_path / "two", "--port", str(port), global_data_dir=True)
    try:
        bases = {first.wait_healthy(), second.wait_healthy()}
        layouts = [json.loads((d / "demo.json").read_text()) for d in (tmp_path / "one", tmp_path / "two")]
    finally:
        codes = first.stop(), second.stop()
    assert len(bases) == 2, (first.log, second.log)
    assert layouts[0]["device_port_base"] != layouts[1]["device_port_base"]
    assert codes == (0, 0), (first.log, second.log)
    assert (tmp_path / "two" / "noc.db").exists() and (tmp_path / "two" / "tokens.json").exists()


@pytest.mark.slow
def test_restart_keeps_the_data_with_fresh_tokens(tmp_path: Path) -> None:
    data_dir = tmp_path / ".noc-demo"
    first = start_demo(data_dir, "--port", "0")
    try:
        first.wait_healthy()
        tokens = first.tokens()
    finally:
        assert first.stop() == 0, first.log
    assert "demo inventory created" in first.log
    again = start_demo(data_dir, "--port", "0")
    try:
        base = again.wait_healthy()
        fresh = again.tokens()
        assert fresh["admin"] != tokens["admin"]
        assert get(f"{base}/api/v1/subscribers", headers=auth(tokens["admin"])).status_code == 401
        assert get(f"{base}/api/v1/subscribers", headers=auth(fresh["admin"])).status_code == 200
    finally:
        assert again.stop() == 0, again.log
    assert "demo inventory created" not in again.log


@pytest.mark.slow
def test_a_taken_simulator_port_is_one_line_naming_the_option(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        for taken in range(41000, 45000, 7):  # another program holds the first simulator port
            with contextlib.suppress(OSError):
                squatter.bind(("127.0.0.1", taken))
                break
        done = subprocess.run([sys.executable, "-m", "noc", "demo", "--data-dir", str(tmp_path / "d"),
                               "--port", "0", "--sim-port-base", str(taken)],
                              capture_output=True, text=True, timeout=120,
                              env={k: v for k, v in os.environ.items() if not k.startswith("NOC_")})
    assert done.returncode == 1
    assert "--sim-port-base" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
