"""Poller groups in the inventory: the import and the API accept them, default them, and refuse a bad one by name;
without a broker nothing of scaled-out polling runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient
from sqlalchemy import select

from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.models import Cpe, Device
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.polling.jobs import add_jobs as polling_jobs
from noc.scaleout.jobs import add_jobs as scaleout_jobs
from tests.support.api import auth, role_tokens


def test_import_and_api_take_the_poller_group(rt: Runtime, settings: Settings, db: Database) -> None:
    doc = {"devices": [{"name": "cmts-mb", "kind": "cmts", "address": "10.1.0.1", "poller_group": "maribor"},
                       {"name": "core-lj", "kind": "router", "address": "10.0.0.1"}],
           "cpes": [{"serial": "CM1", "mac": "02:00:00:00:00:01", "model": "TC4400", "address": "10.1.9.1",
                     "poller_group": "maribor"}]}
    with db.session() as s:
        import_rows(document_rows("t", doc), InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE),
                                                            rt.events))
    with db.session() as s:
        assert dict(s.execute(select(Device.name, Device.poller_group)).all()) == {"cmts-mb": "maribor",
                                                                                   "core-lj": "default"}
        assert s.scalar(select(Cpe.poller_group)) == "maribor"
    tokens = role_tokens(db)
    with TestClient(create_app(settings, db, scheduler=False)) as client:
        headers = auth(tokens["admin"])
        device = client.get("/api/v1/devices", headers=headers).json()["items"]
        assert {d["name"]: d["poller_group"] for d in device} == {"cmts-mb": "maribor", "core-lj": "default"}
        bad = client.post("/api/v1/devices", headers=headers, json={
            "name": "r9", "kind": "router", "address": "10.0.0.9", "poller_group": "Maribor North"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "poller_group"


def test_without_a_broker_polling_stays_in_process(rt: Runtime) -> None:
    scheduler = BackgroundScheduler()
    scaleout_jobs(scheduler, rt)
    assert scheduler.get_jobs() == []
    polling_jobs(scheduler, rt)
    assert {job.id for job in scheduler.get_jobs()} == {"poll.segments", "poll.cpes"}


def test_worker_command_refuses_without_a_broker_or_with_a_bad_group(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update(NOC_DATA_DIR=str(tmp_path), NOC_SECRET_KEY="test-secret-key-0123456789")
    noc = str(Path(sys.executable).with_name("noc"))
    missing = subprocess.run([noc, "worker", "--poller-group", "north"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode != 0 and "NOC_BROKER_URL" in missing.stderr and "Traceback" not in missing.stderr
    env["NOC_BROKER_URL"] = "redis://127.0.0.1:6379/11"
    bad = subprocess.run([noc, "worker", "--poller-group", "North Pole"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0 and "--poller-group" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
