"""APScheduler wiring: the jobs every noc worker runs; capabilities add theirs through ``JOB_PROVIDERS``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from noc.audit.service import verify_chain
from noc.db import Database

log = logging.getLogger("noc.jobs")

JobProvider = Callable[[BackgroundScheduler, Database], None]


def audit_verify_job(db: Database) -> None:
    """Check the audit chain and log the outcome (an alarm for whoever watches the logs)."""
    with db.session() as s:
        result = verify_chain(s)
    if result.ok:
        log.info("audit chain intact: %d entries", result.checked)
    else:
        log.error("audit chain broken at entry %s: %s", result.broken_seq, result.problem)


def core_jobs(scheduler: BackgroundScheduler, db: Database) -> None:
    """Jobs of the foundation: a daily audit chain check."""
    scheduler.add_job(audit_verify_job, "cron", hour=3, minute=17, args=[db], id="audit.verify",
                      max_instances=1, coalesce=True, replace_existing=True)


JOB_PROVIDERS: list[JobProvider] = [core_jobs]
"""Each capability appends a function that adds its jobs (poll cycles, rule evaluation, dispatch, ...)."""


def build_scheduler(db: Database, timezone: str, providers: list[JobProvider] | None = None) -> BackgroundScheduler:
    """A scheduler (not started) with every provider's jobs."""
    scheduler = BackgroundScheduler(timezone=timezone, job_defaults={"misfire_grace_time": 60})
    for provide in providers if providers is not None else JOB_PROVIDERS:
        provide(scheduler, db)
    return scheduler


def describe(scheduler: BackgroundScheduler) -> dict[str, Any]:
    """The scheduler's state for the health endpoint."""
    return {
        "running": scheduler.running,
        "jobs": [
            {"id": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None}
            for job in scheduler.get_jobs()
        ],
    }
