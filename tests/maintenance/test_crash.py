"""A mail dispatcher killed with SIGKILL in the middle of a batch, then restarted: a real `noc worker` process,
a real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from noc.core.capability import Runtime
from noc.core.db import utcnow
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.maintenance.notices import queue_notices
from noc.maintenance.service import NoticePolicy, WindowIn, create_window
from tests.maintenance.conftest import load_network, outbox, planned, subscriber
from tests.support.smtp import MailServer, Received

SUBSCRIBERS = 40
KILL_AT = 15
"""The worker is killed while the server holds its answer to this mail: the mail is in flight."""
SMTP_TIMEOUT_S = 4
"""The worker's SMTP timeout; the claim on a mail in flight lasts 7 times as long (28 s)."""


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`noc worker --job maintenance.mail` on the test's database and SMTP server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update({"NOC_DATABASE_URL": settings.resolved_database_url(), "NOC_DATA_DIR": str(settings.data_dir),
                "NOC_SECRET_KEY": "test-secret-key-0123456789", "NOC_SMTP_HOST": str(settings.smtp_host),
                "NOC_SMTP_PORT": str(settings.smtp_port), "NOC_SMTP_TIMEOUT_S": str(SMTP_TIMEOUT_S),
                "NOC_MAIL_FROM": settings.mail_from, "NOC_PUBLIC_URL": str(settings.public_url),
                "NOC_MAIL_RATE_PER_S": "20", "NOC_MAIL_DISPATCH_INTERVAL_S": "1"})
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "noc", "worker", "--job", "maintenance.mail"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_repeats_only_the_mail_in_flight(
        settings: Settings, rt: Runtime, smtp: MailServer, tmp_path: Path) -> None:
    load_network(rt, [subscriber(n, "sg-1") for n in range(1, SUBSCRIBERS + 1)])
    body = planned()
    with rt.db.session() as s:
        create_window(s, WindowIn(**body), SYSTEM)
    assert queue_notices(rt.db, NoticePolicy.from_settings(settings)).queued == SUBSCRIBERS
    held, release = threading.Event(), threading.Event()

    def hold_the_answer(received: Received) -> None:
        if len(smtp.received) == KILL_AT:
            held.set()
            release.wait(60)

    smtp.on_data = hold_the_answer
    log = tmp_path / "worker.log"
    first = start_worker(settings, log)
    try:
        assert held.wait(120), f"the worker sent {len(smtp.received)} mails, not {KILL_AT}; its log:\n" \
                               f"{log.read_text()}"
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
    in_flight = smtp.received[KILL_AT - 1]
    smtp.on_data = None
    assert len(smtp.received) == KILL_AT

    second = start_worker(settings, log)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and {m.state for m in outbox(rt.db)} != {"sent"}:
            time.sleep(1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    messages = outbox(rt.db)
    assert {m.state for m in messages} == {"sent"}, f"waited 240 s for every mail to be sent; states: " \
        f"{Counter(m.state for m in messages)}; the workers' log:\n{log.read_text()}"
    assert second.returncode == 0, log.read_text()

    copies = Counter(r.rcpt[0] for r in smtp.received)
    assert set(copies) == {f"user{n}@example.si" for n in range(1, SUBSCRIBERS + 1)}  # nothing lost
    assert [address for address, n in copies.items() if n > 1] == [in_flight.rcpt[0]]  # one repeat: the one in flight
    twice = [r.message for r in smtp.received if r.rcpt == in_flight.rcpt]
    assert twice[0]["Message-ID"] == twice[1]["Message-ID"]
    assert len({str(r.message["Message-ID"]) for r in smtp.received}) == SUBSCRIBERS
    assert sorted(m.attempts for m in messages) == [1] * (SUBSCRIBERS - 1) + [2]
    assert all(m.sent_at is not None and m.sent_at <= utcnow() for m in messages)
