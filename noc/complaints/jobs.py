"""Scheduling the evidence capture of open complaints (every ``NOC_COMPLAINT_CAPTURE_INTERVAL_S``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from noc.complaints.capture import capture_cycle
from noc.complaints.service import profiles
from noc.core.capability import Runtime
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling.health import load_health


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``complaints.capture``. The rule profiles are read now, so a broken one stops ``noc serve`` /
    ``noc worker`` at start with the file and key named."""
    settings = runtime.settings
    profiles(settings)
    interval = settings.complaint_capture_interval_s
    scheduler.add_job(capture_cycle, "interval", seconds=interval, id="complaints.capture",
                      next_run_time=datetime.now().astimezone() + timedelta(seconds=5),
                      args=[runtime.db, settings, runtime.secret_box(CREDENTIALS_PURPOSE), load_health()])
