"""The audit log's scheduled check: the hash chain verified daily."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from noc.audit import metrics
from noc.audit.service import verify_chain
from noc.core.capability import Runtime
from noc.core.db import Database

log = logging.getLogger("noc.audit")

FIRST_CHECK_DELAY_S = 60
"""The first check runs this long after the worker starts."""


def verify_job(db: Database) -> None:
    """Check the audit chain, log the outcome and publish it (``noc_audit_chain_ok``, alerted on in Grafana)."""
    with db.read_session() as s:  # only reads: on SQLite it holds no write lock while the chain is hashed
        result = verify_chain(s)
    metrics.CHAIN_OK.set(1 if result.ok else 0)
    metrics.CHAIN_CHECKED.set_to_current_time()
    if result.ok:
        log.info("audit chain intact: %d entries", result.checked)
    else:
        log.error("audit chain broken at entry %s: %s", result.broken_seq, result.problem)


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """A daily audit chain check, and one a minute after the worker starts (so its gauge has a value)."""
    scheduler.add_job(verify_job, "cron", hour=3, minute=17, args=[runtime.db], id="audit.verify",
                      next_run_time=datetime.now().astimezone() + timedelta(seconds=FIRST_CHECK_DELAY_S),
                      max_instances=1, coalesce=True, replace_existing=True)
