"""The audit log's scheduled check: the hash chain verified daily."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from noc.audit.service import verify_chain
from noc.core.capability import Runtime
from noc.core.db import Database

log = logging.getLogger("noc.audit")


def verify_job(db: Database) -> None:
    """Check the audit chain and log the outcome (an alarm for whoever watches the logs)."""
    with db.session() as s:
        result = verify_chain(s)
    if result.ok:
        log.info("audit chain intact: %d entries", result.checked)
    else:
        log.error("audit chain broken at entry %s: %s", result.broken_seq, result.problem)


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """A daily audit chain check."""
    scheduler.add_job(verify_job, "cron", hour=3, minute=17, args=[runtime.db], id="audit.verify",
                      max_instances=1, coalesce=True, replace_existing=True)
