"""The alert rules on noc itself: their PromQL runs on a real VictoriaMetrics that scrapes noc's real /metrics (with
the scrape configuration of the compose stack), and each rule fires when noc is unwell and stays quiet when not."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from apscheduler.schedulers.background import BackgroundScheduler

from collectors.samples import Sample
from collectors.sinks import SinkCollector
from collectors.sinks.influx import InfluxSink
from noc.audit.jobs import verify_job
from noc.audit.service import record
from noc.capabilities import runtime
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.metrics import REGISTRY, exposition
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.polling import jobs as polling_jobs
from noc.polling import metrics as polling_metrics
from noc.scaleout import metrics as scaleout_metrics
from tests.support.dashboards import build_module
from tests.support.victoria import VM_BINARY, VictoriaMetrics, free_port

ROOT = Path(__file__).resolve().parents[2]


def rules() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(build_module().ALERTS.read_text())
    return {r["uid"]: r for r in doc["groups"][0]["rules"]}


@pytest.fixture
def metrics_url() -> Iterator[str]:
    """noc's /metrics (the kernel's registry, as `noc worker --metrics-port` serves it) on a loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Quiet: the test's output is its assertions."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


Scraper = Callable[[], VictoriaMetrics]


@pytest.fixture
def scraper(tmp_path: Path, metrics_url: str) -> Iterator[Scraper]:
    """Start a fresh VictoriaMetrics that scrapes noc's /metrics every second with deploy/scrape.yml's jobs."""
    if shutil.which(VM_BINARY) is None:
        pytest.fail("victoria-metrics is not installed: apt-get update && apt-get install -y victoria-metrics")
    config = yaml.safe_load((ROOT / "deploy/scrape.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["scrape_configs"] = [{**job, "static_configs": [{"targets": [metrics_url]}]}
                                for job in config["scrape_configs"] if job["job_name"] == "noc-worker"]
    made: list[VictoriaMetrics] = []

    def start() -> VictoriaMetrics:
        n = len(made)
        path = tmp_path / f"scrape{n}.yml"
        path.write_text(yaml.safe_dump(config))
        vm = VictoriaMetrics(tmp_path / f"vm{n}", free_port(), tmp_path / f"vm{n}.log",
                             (f"-promscrape.config={path}",))
        made.append(vm)
        vm.start()
        return vm

    yield start
    for vm in made:
        vm.stop()


def query(vm: VictoriaMetrics, expr: str) -> list[float]:
    """An instant PromQL query now: the values of the result vector."""
    url = f"{vm.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return [float(item["value"][1]) for item in body["data"]["result"]]


def firing(vm: VictoriaMetrics, uid: str) -> bool | None:
    """Whether rule ``uid`` fires now (its threshold on its query's answer); None when the query has no data."""
    rule = rules()[uid]
    values = query(vm, rule["data"][0]["model"]["expr"])
    if not values:
        return None
    (cond,) = rule["data"][1]["model"]["conditions"]
    op, limit = cond["evaluator"]["type"], cond["evaluator"]["params"][0]
    return any(v > limit if op == "gt" else v < limit for v in values)


def wait_for(vm: VictoriaMetrics, expr: str, check: Callable[[list[float]], bool] = bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(query(vm, expr)):
            return
        time.sleep(0.5)
    raise AssertionError(f"{expr} never answered as expected: {query(vm, expr)}")


def worker(settings: Settings, db: Database, shard: str) -> tuple[Runtime, BackgroundScheduler]:
    """What `noc worker` sets up for polling (the scheduler is not started: cycles are run by hand)."""
    rt = runtime(settings.model_copy(update={"poll_shard": shard}), db)
    scheduler = BackgroundScheduler()
    polling_jobs.add_jobs(scheduler, rt)
    return rt, scheduler


def test_the_scrape_configuration_is_valid() -> None:
    done = subprocess.run([VM_BINARY, f"-promscrape.config={ROOT / 'deploy/scrape.yml'}", "-dryRun"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""The metrics do not depend on the database: one is enough."""


@SQLITE
def test_poller_alerts(settings: Settings, db: Database, scraper: Scraper) -> None:
    """No successful segment cycle for 3 intervals; a poller group (shard) without a worker."""
    rt, scheduler = worker(settings, db, "0/1")
    try:
        vm = scraper()
        poller = scheduler.get_job("poll.segments").func.__self__
        poller.segment_cycle()  # no devices: nothing to poll is a success
        wait_for(vm, 'noc_poll_interval_seconds{job="segments"}')
        assert firing(vm, "noc-segment-cycle-stale") is False
        assert firing(vm, "noc-poller-group-without-workers") is False
    finally:
        rt.close()
    rt, scheduler = worker(settings, db, "0/2")  # two shards configured, one worker
    try:
        interval = settings.poll_segment_interval_s
        polling_metrics.CYCLE_LAST_SUCCESS.labels("segments").set(time.time() - 3.5 * interval)
        vm = scraper()
        wait_for(vm, "noc_poll_shards", lambda v: v == [2.0])
        assert firing(vm, "noc-segment-cycle-stale") is True
        assert firing(vm, "noc-poller-group-without-workers") is True
    finally:
        rt.close()
    assert {rules()[u]["noDataState"] for u in ("noc-segment-cycle-stale", "noc-poller-group-without-workers")} \
        == {"Alerting"}, "no worker reporting at all is itself the fault"


def test_poller_group_alert_when_scaled_out(scraper: Scraper) -> None:
    """With a broker, the groups no worker consumes: what each scheduling node's tick reports."""
    try:
        scaleout_metrics.WORKERS.labels("maribor").set(2)
        scaleout_metrics.WORKERS.labels("default").set(1)
        vm = scraper()
        wait_for(vm, "noc_poller_group_workers", lambda v: sorted(v) == [1.0, 2.0])
        assert firing(vm, "noc-poller-group-without-workers") is False
        scaleout_metrics.WORKERS.labels("maribor").set(0)  # Maribor's workers gone (or cut off by the VPN)
        wait_for(vm, 'noc_poller_group_workers{group="maribor"}', lambda v: v == [0.0])
        assert firing(vm, "noc-poller-group-without-workers") is True
    finally:
        for group in ("maribor", "default"):
            scaleout_metrics.WORKERS.remove(group)


def test_every_dashboard_promql_query_runs_and_the_poller_groups_show(scraper: Scraper) -> None:
    """Each PromQL query of the dashboards runs on the VictoriaMetrics scraping noc; the poller's scale-out panels
    show a group's workers, lag, and a batch sent again after the broker lost it."""
    from tests.support.dashboards import all_panels, load_dashboards

    exprs = {t["expr"]: f"{name}: {p['title']}" for name, dash in load_dashboards().items()
             for p in all_panels(dash["panels"]) for t in p.get("targets", []) if "expr" in t}
    assert any("noc_poll_batches_resent_total" in e for e in exprs)
    try:
        scaleout_metrics.WORKERS.labels("maribor").set(2)
        scaleout_metrics.LAG.labels("maribor", "cpes").set(0)
        vm = scraper()
        wait_for(vm, 'noc_poller_group_workers{group="maribor"}')
        scaleout_metrics.BATCHES_RESENT.labels("maribor").inc()
        wait_for(vm, 'noc_poll_batches_resent_total{group="maribor"}', lambda v: v == [1.0])
        for expr, where in exprs.items():
            url = f"{vm.url}/api/v1/query_range?" + urllib.parse.urlencode(
                {"query": expr, "start": int(time.time()) - 600, "end": int(time.time()), "step": 15})
            with urllib.request.urlopen(url, timeout=10) as resp:
                assert json.load(resp)["status"] == "success", where
        wait_for(vm, next(e for e in exprs if "noc_poll_batches_resent_total" in e), lambda v: v and v[0] > 0)
        assert query(vm, next(e for e in exprs if "noc_poller_group_workers" in e)) == [2.0]
    finally:
        scaleout_metrics.WORKERS.remove("maribor")
        scaleout_metrics.LAG.remove("maribor", "cpes")
        scaleout_metrics.BATCHES_RESENT.remove("maribor")


@SQLITE
def test_audit_chain_alert(rt: Runtime, db: Database, scraper: Scraper) -> None:
    with db.session() as s:
        for i in range(3):
            record(s, SYSTEM, "test.event", "thing", str(i))
    verify_job(rt)
    vm = scraper()
    wait_for(vm, "noc_audit_chain_ok")
    assert firing(vm, "noc-audit-chain-broken") is False
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET object_id = 'forged' WHERE object_id = '1'"))
    verify_job(rt)
    wait_for(vm, "noc_audit_chain_ok", lambda v: v == [0.0])
    assert firing(vm, "noc-audit-chain-broken") is True


def test_spool_alert(tmp_path: Path, scraper: Scraper) -> None:
    """InfluxDB unreachable: the worker's sink spools, the spool grows, the rule fires."""
    dead = f"http://127.0.0.1:{free_port()}"
    sink = InfluxSink(dead, "noc", "noc", "token", tmp_path / "spool", timeout=1.0)  # type: ignore[arg-type]
    collector = SinkCollector({"influx": sink})
    REGISTRY.register(collector)
    try:
        vm = scraper()
        wait_for(vm, 'noc_sink_spool_points{sink="influx"}')
        time.sleep(2)
        assert firing(vm, "noc-sink-spool-growing") is False  # nothing written, nothing spooled
        for n in range(4):
            sink.write([Sample("poll", (("device", f"d{i}"),), {"duration_s": 0.1, "ok": True}, int(time.time()))
                        for i in range(100 * (n + 1))])
            sink.flush(timeout=5)
            time.sleep(2)
        wait_for(vm, 'noc_sink_spool_points{sink="influx"}', lambda v: bool(v) and v[0] >= 1000)
        assert firing(vm, "noc-sink-spool-growing") is True
    finally:
        REGISTRY.unregister(collector)
        sink.close()
