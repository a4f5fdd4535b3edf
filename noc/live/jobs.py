"""Scheduling the expiry of live sessions whose time is up (audited as expired)."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.live.service import expire_cycle

EXPIRE_EVERY_S = 30


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``live.expire``: close sessions past their end (streams and writes also expire them on the way)."""
    scheduler.add_job(expire_cycle, "interval", seconds=EXPIRE_EVERY_S, id="live.expire", args=[runtime.db])
