"""Flower on noc's Celery app (issue 17, Operations): `celery -A noc.scaleout.app flower` started as a real process
against Redis sees a live `noc worker --poller-group` process in its API and its Prometheus metrics."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.scaleout.cluster import Cluster, clusters, wait_for

CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    # the worker answers Flower without polling anything: no inventory needed, an empty SQLite database will do
    yield from clusters(tmp_path, f"sqlite:///{tmp_path / 'noc.db'}", "test-secret-key-0123456789")


def test_flower_shows_a_live_noc_worker(cluster: Cluster, tmp_path: Path) -> None:
    worker = cluster.start("east-1", "east")
    port = free_port()
    log = tmp_path / "flower.log"
    env = {**cluster.environment(tmp_path / "flower"), "FLOWER_UNAUTHENTICATED_API": "true"}  # no auth on loopback
    with log.open("ab") as out:
        flower = subprocess.Popen([CELERY, "-A", "noc.scaleout.app", "flower", "--address=127.0.0.1",
                                   f"--port={port}"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"

    def explain() -> str:
        return f"--- flower\n{log.read_text(errors='replace')[-3000:]}\n{cluster.logs()}"

    def listed() -> dict[str, Any] | None:
        try:
            workers = httpx.get(f"{base}/api/workers", params={"refresh": "1"}, timeout=30).json()
        except (httpx.HTTPError, ValueError):
            return None
        return workers.get(worker.nodename)

    def online() -> bool:
        try:
            text = httpx.get(f"{base}/metrics", timeout=30).text
        except httpx.HTTPError:
            return False
        return f'flower_worker_online{{worker="{worker.nodename}"}} 1.0' in text

    try:
        info = wait_for(f"Flower listing {worker.nodename}", listed, 180, interval=1, explain=explain)
        queues = {q["name"] for q in info["active_queues"]}
        assert queues == {f"{cluster.prefix}.poll.east", f"{cluster.prefix}.poll.east.segments"}, info
        assert "noc.poll_cpes" in info["registered"], info["registered"]
        wait_for("Flower's metrics counting the worker online (its heartbeat events)", online, 180, interval=1,
                 explain=explain)
    finally:
        flower.terminate()
        try:
            flower.wait(timeout=30)
        except subprocess.TimeoutExpired:
            flower.kill()
            flower.wait(timeout=30)
