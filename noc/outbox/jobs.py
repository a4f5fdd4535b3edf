"""Scheduling outbox delivery: due messages are sent every few seconds."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.outbox.service import Dispatcher
from noc.outbox.webhook import WebhookSender

DISPATCH_EVERY_S = 10


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Send due webhooks (later: e-mail) with retries and backoff."""
    secret = runtime.settings.ticket_webhook_secret
    sender = WebhookSender(secret.get_secret_value() if secret else None)
    dispatcher = Dispatcher(runtime.db, {"webhook": sender}, max_attempts=14)  # retries for about 3-6 hours
    scheduler.add_job(dispatcher.run_once, "interval", seconds=DISPATCH_EVERY_S, id="outbox.dispatch")
