"""Scheduling notices: reminders and completions when due, queueing each notice's mails, and sending them."""

from __future__ import annotations

import logging
import math

from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.maintenance.mail import NoticeComposer
from noc.maintenance.notices import CHANNEL, plan_due, queue_notices
from noc.maintenance.service import NoticePolicy
from noc.outbox.email import SmtpConfig, SmtpSender
from noc.outbox.service import Dispatcher

log = logging.getLogger("noc.maintenance")

MAIL_ATTEMPTS = 12
"""Tries of one mail: with the backoff below they span about 3-6 hours of temporary refusals (greylisting, a full
queue)."""
MAIL_BACKOFF_S = 60.0
LEASE_TIMEOUTS = 7
"""A mail's claim lasts this many SMTP timeouts (connect, STARTTLS, login, MAIL, RCPT, DATA and its end, each
waited for at most once) plus its pacing slot: a live dispatcher never loses it, a dead one's mail is sent again
after it."""
RUN_SHARE = 0.8
"""Share of the interval a run may take, so that runs do not pile up."""


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """``maintenance.notices`` records due reminders and completions and queues notices' mails;
    ``maintenance.mail`` sends due mails at the configured pace (only when an SMTP server is configured)."""
    settings = runtime.settings
    policy = NoticePolicy.from_settings(settings)
    every = settings.mail_dispatch_interval_s

    def notices() -> None:
        plan_due(runtime.db, policy)
        queue_notices(runtime.db, policy, max_run_s=every * RUN_SHARE)

    scheduler.add_job(notices, "interval", seconds=every, id="maintenance.notices")
    dispatcher = mail_dispatcher(runtime)
    if dispatcher is None:
        log.warning("NOC_SMTP_HOST is unset: maintenance notices are queued but not sent")
        return
    scheduler.add_job(dispatcher.run_once, "interval", seconds=every, id="maintenance.mail")


def mail_dispatcher(runtime: Runtime) -> Dispatcher | None:
    """The dispatcher of notice mails, or None without an SMTP server; its connection closes with the runtime.

    A run sends at most what the pace allows in one interval, and stops claiming mails after
    :data:`RUN_SHARE` of it. The claim of a mail outlives the slowest send (every SMTP step timing out).
    """
    settings = runtime.settings
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return None
    sender = SmtpSender(config, NoticeComposer(runtime), rate_per_s=settings.mail_rate_per_s)
    runtime.closers.append(sender.close)
    every = settings.mail_dispatch_interval_s
    lease_s = LEASE_TIMEOUTS * settings.smtp_timeout_s + 1 / settings.mail_rate_per_s
    return Dispatcher(runtime.db, {CHANNEL: sender}, max_attempts=MAIL_ATTEMPTS, base_backoff_s=MAIL_BACKOFF_S,
                      max_backoff_s=3600.0, batch=max(1, math.ceil(settings.mail_rate_per_s * every)),
                      lease_s=lease_s, max_run_s=every * RUN_SHARE)
