"""Scheduling rule evaluation: sustained breaches after every rollup period, trends hourly."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from noc.capacity.evaluator import SUSTAINED, TRENDS, evaluate
from noc.capacity.events import webhook_events
from noc.capacity.rules import load_rules
from noc.jobs import JobContext

SETTLE_S = 5
"""Seconds past the first segment poll after a rollup period ends (which stores that period's rollup)."""


def add_capacity_jobs(scheduler: BackgroundScheduler, ctx: JobContext) -> None:
    """Evaluate the 70 % rules on schedule and queue ticket events for the webhook, if one is configured."""
    settings = ctx.settings
    defaults = load_rules(settings.capacity_rules_file)
    on_event = webhook_events(settings.ticket_webhook_url)
    period = settings.rollup_period_s
    now = datetime.now().astimezone()
    settle = settings.poll_segment_interval_s + SETTLE_S
    first = now - timedelta(seconds=now.timestamp() % period) + timedelta(seconds=period + settle)
    scheduler.add_job(evaluate, "interval", seconds=period, next_run_time=first, id="capacity.sustained",
                      args=[ctx.db, SUSTAINED], kwargs={"defaults": defaults, "on_event": on_event})
    scheduler.add_job(evaluate, "interval", hours=1, next_run_time=now + timedelta(seconds=30), id="capacity.trends",
                      args=[ctx.db, TRENDS], kwargs={"defaults": defaults, "on_event": on_event})
