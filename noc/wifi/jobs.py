"""The worker's Wi-Fi jobs: run campaigns that are running and held by nobody (a killed runner's lease runs out
and the next look takes its campaign over), and check drift."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from noc.core.capability import Runtime
from noc.core.db import utcnow
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.wifi.drift import check_drift
from noc.wifi.models import Campaign
from noc.wifi.runner import run_campaign
from noc.wifi.service import SECRETS_PURPOSE


def run_campaigns(runtime: Runtime) -> None:
    """Run every running campaign no live runner holds, one after another."""
    now = utcnow()
    with runtime.db.read_session() as s:
        ids = list(s.scalars(select(Campaign.id).where(
            Campaign.state == "running", (Campaign.lease_until.is_(None)) | (Campaign.lease_until < now))
            .order_by(Campaign.id)))
    for campaign_id in ids:
        run_campaign(runtime.db, runtime.settings, campaign_id, credentials=runtime.secret_box(CREDENTIALS_PURPOSE),
                     secrets=runtime.secret_box(SECRETS_PURPOSE))


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``wifi.campaigns`` and ``wifi.drift``."""
    settings = runtime.settings
    soon = datetime.now().astimezone() + timedelta(seconds=5)
    scheduler.add_job(run_campaigns, "interval", seconds=settings.wifi_interval_s, id="wifi.campaigns",
                      next_run_time=soon, args=[runtime], max_instances=1, coalesce=True)
    scheduler.add_job(check_drift, "interval", seconds=settings.wifi_drift_interval_s, id="wifi.drift",
                      args=[runtime.db, settings, runtime.secret_box(CREDENTIALS_PURPOSE),
                            runtime.secret_box(SECRETS_PURPOSE)], max_instances=1, coalesce=True)
