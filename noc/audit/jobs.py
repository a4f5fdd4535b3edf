"""The audit log's scheduled work: the chain verified daily, its head anchored outside the database."""

from __future__ import annotations

import json
import logging
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from noc.audit import metrics
from noc.audit.service import anchor, verify_chain
from noc.core.capability import Runtime

log = logging.getLogger("noc.audit")

FIRST_CHECK_DELAY_S = 60
"""The first check runs this long after the worker starts."""


def verify_job(runtime: Runtime) -> None:
    """Check the audit chain against its anchors, log the outcome and publish it (``noc_audit_chain_ok``,
    alerted on in Grafana)."""
    with runtime.db.read_session() as s:  # only reads: on SQLite no write lock while the chain is hashed
        result = verify_chain(s, runtime.settings.resolved_anchor_file())
    metrics.CHAIN_OK.set(1 if result.ok else 0)
    metrics.CHAIN_CHECKED.set_to_current_time()
    if result.ok:
        log.info("audit chain intact: %d entries", result.checked)
    else:
        log.error("audit chain broken at entry %s: %s", result.broken_seq, result.problem)


def anchor_job(runtime: Runtime) -> None:
    """Anchor the chain head: append it to the anchor file, log it, and offer it to the anchor webhook."""
    with runtime.db.read_session() as s:
        written = anchor(s, runtime.settings.resolved_anchor_file())
    if written is None:
        return
    log.info("audit anchor: %d entries, head %s", written["seq"], written["digest"])
    if runtime.settings.audit_anchor_url:
        offer(runtime.settings.audit_anchor_url, written)


def offer(url: str, written: dict[str, Any]) -> None:
    """POST an anchor to ``url``; a failure is logged (the file and the log still hold the anchor)."""
    request = urllib.request.Request(url, data=json.dumps(written).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()
    except OSError as exc:
        log.warning("audit anchor not delivered to the anchor URL: %s", exc.__class__.__name__)


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """A daily audit chain check (and one a minute after the worker starts, so its gauge has a value) and the
    periodic anchor."""
    scheduler.add_job(verify_job, "cron", hour=3, minute=17, args=[runtime], id="audit.verify",
                      next_run_time=datetime.now().astimezone() + timedelta(seconds=FIRST_CHECK_DELAY_S),
                      max_instances=1, coalesce=True, replace_existing=True)
    scheduler.add_job(anchor_job, "interval", seconds=runtime.settings.audit_anchor_interval_s, args=[runtime],
                      id="audit.anchor", max_instances=1, coalesce=True, replace_existing=True)
