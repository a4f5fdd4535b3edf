"""APScheduler wiring: the jobs a noc worker runs; capabilities add theirs through ``JOB_PROVIDERS``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from noc import metrics
from noc.audit.service import verify_chain
from noc.db import Database
from noc.settings import Settings

log = logging.getLogger("noc.jobs")


@dataclass
class JobContext:
    """What job providers get: the database, the settings, and a place to register clean-up."""

    db: Database
    settings: Settings
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Run every registered clean-up, newest first."""
        while self.closers:
            self.closers.pop()()


JobProvider = Callable[[BackgroundScheduler, JobContext], None]


def audit_verify_job(db: Database) -> None:
    """Check the audit chain and log the outcome (an alarm for whoever watches the logs)."""
    with db.session() as s:
        result = verify_chain(s)
    if result.ok:
        log.info("audit chain intact: %d entries", result.checked)
    else:
        log.error("audit chain broken at entry %s: %s", result.broken_seq, result.problem)


def core_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> None:
    """Jobs of the foundation: a daily audit chain check."""
    scheduler.add_job(audit_verify_job, "cron", hour=3, minute=17, args=[ctx.db], id="audit.verify",
                      max_instances=1, coalesce=True, replace_existing=True)


def polling_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> None:
    """Segment and CPE poll cycles (see noc.polling)."""
    from noc.polling.jobs import add_polling_jobs

    add_polling_jobs(scheduler, ctx)


def capacity_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> None:
    """The 70 % rules (see noc.capacity)."""
    from noc.capacity.jobs import add_capacity_jobs

    add_capacity_jobs(scheduler, ctx)


def outbox_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> None:
    """Delivery of everything noc sends out (see noc.outbox)."""
    from noc.outbox.jobs import add_outbox_jobs

    add_outbox_jobs(scheduler, ctx)


JOB_PROVIDERS: list[JobProvider] = [core_jobs, polling_jobs, capacity_jobs, outbox_jobs]
"""Each capability adds a function that adds its jobs (poll cycles, rule evaluation, dispatch, ...)."""


def _count_skipped(event: JobExecutionEvent) -> None:
    metrics.CYCLES_SKIPPED.labels(event.job_id).inc()
    log.warning("job %s skipped: its previous run is still going", event.job_id)


def build_scheduler(ctx: JobContext, providers: list[JobProvider] | None = None) -> BackgroundScheduler:
    """A scheduler (not started) with every provider's jobs; a cycle never overlaps itself."""
    scheduler = BackgroundScheduler(timezone=ctx.settings.timezone,
                                    job_defaults={"misfire_grace_time": 30, "max_instances": 1, "coalesce": True})
    scheduler.add_listener(_count_skipped, EVENT_JOB_MAX_INSTANCES)
    for provide in providers if providers is not None else JOB_PROVIDERS:
        provide(scheduler, ctx)
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
