"""APScheduler wiring: a scheduler whose jobs the enabled capabilities add; a job never overlaps itself."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from noc.core import metrics
from noc.core.capability import Runtime

log = logging.getLogger("noc.core.scheduler")

JobProvider = Callable[[BackgroundScheduler, Runtime], None]
"""A capability's ``jobs`` part: adds its jobs to the scheduler."""


def _count_skipped(event: JobExecutionEvent) -> None:
    metrics.CYCLES_SKIPPED.labels(event.job_id).inc()
    log.warning("job %s skipped: its previous run is still going", event.job_id)


def build_scheduler(runtime: Runtime, providers: Iterable[JobProvider]) -> BackgroundScheduler:
    """A scheduler (not started) with every provider's jobs, in the operator's time zone."""
    scheduler = BackgroundScheduler(timezone=runtime.settings.timezone,
                                    job_defaults={"misfire_grace_time": 30, "max_instances": 1, "coalesce": True})
    scheduler.add_listener(_count_skipped, EVENT_JOB_MAX_INSTANCES)
    for provide in providers:
        provide(scheduler, runtime)
    return scheduler


def describe(scheduler: BackgroundScheduler) -> dict[str, Any]:
    """The scheduler's state for the health endpoint (times in UTC)."""
    return {
        "running": scheduler.running,
        "jobs": [
            {"id": job.id, "next_run": job.next_run_time.astimezone(UTC).isoformat() if job.next_run_time else None}
            for job in scheduler.get_jobs()
        ],
    }
