"""The daily retention job (``NOC_RETENTION_HOUR``, local time)."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.privacy.service import retention_days, run_retention


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``privacy.retention``. The retention settings are checked now, so a wrong kind stops ``noc serve`` /
    ``noc worker`` at start with the kind named."""
    retention_days(runtime.personal_data, runtime.settings)
    scheduler.add_job(run_retention, "cron", hour=runtime.settings.retention_hour, minute=41, id="privacy.retention",
                      args=[runtime.db, runtime.settings, runtime.personal_data])
