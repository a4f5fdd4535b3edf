"""Scheduling rule evaluation: sustained breaches after every rollup period, trends hourly."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from noc.capacity.service import SUSTAINED, TRENDS, evaluate, rules_in_force, webhook_events
from noc.core.capability import Runtime

SETTLE_S = 5
"""Seconds past the first segment poll after a rollup period ends (which stores that period's rollup)."""


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Evaluate the 70 % rules on schedule and queue ticket events for the webhook, if one is configured.

    The rules in force are read now, so a broken rules file stops ``noc serve`` / ``noc worker`` at start.
    """
    settings = runtime.settings
    defaults = rules_in_force(settings)
    on_event = webhook_events(settings.ticket_webhook_url)
    period = settings.rollup_period_s
    now = datetime.now().astimezone()
    settle = settings.poll_segment_interval_s + SETTLE_S
    first = now - timedelta(seconds=now.timestamp() % period) + timedelta(seconds=period + settle)
    scheduler.add_job(evaluate, "interval", seconds=period, next_run_time=first, id="capacity.sustained",
                      args=[runtime.db, SUSTAINED], kwargs={"defaults": defaults, "on_event": on_event})
    scheduler.add_job(evaluate, "interval", hours=1, next_run_time=now + timedelta(seconds=30), id="capacity.trends",
                      args=[runtime.db, TRENDS], kwargs={"defaults": defaults, "on_event": on_event})
