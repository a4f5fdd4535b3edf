"""Maintenance notices at scale: queueing 100,000 affected subscribers on PostgreSQL, then sending.

The goal it checks: "100,000 affected subscribers are queued in under 60 s on PostgreSQL", and what the
dispatcher's sustained send rate is against an SMTP server on loopback. Setup, not timed:

1. a fresh schema in the PostgreSQL of ``--pg`` (default ``$NOC_TEST_PG_URL`` or the local test database),
   migrated; an aggregation segment with ``--segments`` access segments below it; ``--subscribers``
   subscribers with a running contract and a CPE each, spread over the access segments, 2 % of them opted out
   of maintenance notices and 1 % without an e-mail address (bulk-inserted with SQLAlchemy core);
2. planned works on the aggregation segment (``create_window``: the announcement notice).

Timed:

- **queue**: ``queue_notices`` until the announcement is fully queued (every affected subscriber looked up
  through the topology and one outbox row per mail, in batches of 5,000 subscribers per transaction);
- **send**: the notice mail dispatcher (``noc.maintenance.jobs.mail_dispatcher``: claim, compose from the
  templates with the calendar attachment, SMTP, record — one message at a time) without a pace limit, for
  ``--send-s`` seconds, against ``python -m aiosmtpd`` (handler ``Sink``: accepts and discards) in its own
  process;
- peers in the same run: **compose** — the same composer alone over the same rows (no SMTP, no claims); and
  **smtplib** — a plain ``smtplib`` loop handing the already composed mails to the same server over one
  connection (the ceiling of any sender on this server and machine).

    .venv/bin/python benchmarks/notices.py --subscribers 100000

The last line is machine-readable: ``subscribers=<n> queue_s=<n> queued=<n> send_per_s=<n> compose_per_s=<n>
smtplib_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert, select

from noc.capabilities import runtime
from noc.core.db import Database, utcnow
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.models import Contract, Cpe, NotificationOptOut, Package, Segment, Subscriber
from noc.maintenance.jobs import mail_dispatcher
from noc.maintenance.mail import NoticeComposer
from noc.maintenance.notices import queue_notices
from noc.maintenance.service import NoticePolicy, WindowIn, create_window
from noc.migrations import upgrade
from noc.outbox.email import envelope_sender
from noc.outbox.models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 60.0
CHUNK = 10_000
MAIL_FROM = "Kabel d.o.o. <obvestila@kabel.example>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sink(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd discarding every mail, in its own process; waits until it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
                             "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("aiosmtpd did not start within 30 s")


def populate(db: Database, subscribers: int, segments: int) -> None:
    """The network and its subscribers (see the module's docstring)."""
    with db.engine.begin() as conn:
        package_id = conn.execute(insert(Package).returning(Package.id), {
            "code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10,
            "normal_download_mbps": 80, "normal_upload_mbps": 8, "min_download_mbps": 50,
            "min_upload_mbps": 5}).scalar_one()
        top = conn.execute(insert(Segment).returning(Segment.id), {"name": "agg-1", "kind": "aggregation",
                                                                   "description": "", "rules": {}}).scalar_one()
        access = [conn.execute(insert(Segment).returning(Segment.id), {
            "name": f"sg-{n}", "kind": "access", "parent_id": top, "description": "", "rules": {}}).scalar_one()
            for n in range(segments)]
        for first in range(0, subscribers, CHUNK):
            numbers = range(first, min(first + CHUNK, subscribers))
            ids = conn.execute(insert(Subscriber).returning(Subscriber.id, sort_by_parameter_order=True), [
                {"number": f"S-{i:07d}", "username": f"user{i}", "name": f"Naročnik {i}", "phone": "",
                 "email": "" if i % 100 == 7 else f"user{i}@example.si", "language": "en" if i % 10 == 9 else "sl",
                 "tax_number": "", "ssid_consent": False} for i in numbers]).scalars().all()
            conn.execute(insert(Contract), [{"subscriber_id": sid, "package_id": package_id,
                                             "start_date": utcnow().date() - timedelta(days=400)} for sid in ids])
            pairs = list(zip(numbers, ids, strict=True))
            conn.execute(insert(Cpe), [{"serial": f"SN{i:08d}", "mac": f"02:20:{i >> 24 & 255:02x}:"
                                        f"{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}", "model": "TC4400",
                                        "profile": "docsis-cm", "port": 161, "enabled": True, "subscriber_id": sid,
                                        "segment_id": access[i % segments]} for i, sid in pairs])
            conn.execute(insert(NotificationOptOut), [{"subscriber_id": sid, "category": "maintenance"}
                                                      for i, sid in pairs if i % 50 == 3])


def send_for(dispatcher: Any, seconds: float) -> tuple[int, float]:
    """Mails sent by ``dispatcher`` runs within ``seconds``, and the time taken."""
    sent, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        report = dispatcher.run_once()
        sent += report.sent
        if report.sent == 0:
            break
    return sent, time.monotonic() - started


def peers(db: Database, composer: NoticeComposer, port: int, count: int) -> tuple[float, float]:
    """(composer alone, plain smtplib) messages per second over ``count`` rows still queued."""
    with db.read_session() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")
                              .order_by(OutboxMessage.id).limit(count)))
    started = time.monotonic()
    mails: list[EmailMessage] = [composer(row) for row in rows]
    compose_s = time.monotonic() - started
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for row, mail in zip(rows, mails, strict=True):
            smtp.send_message(mail, from_addr=envelope_sender(MAIL_FROM), to_addrs=[row.destination])
    smtplib_s = time.monotonic() - started
    return len(rows) / compose_s, len(rows) / smtplib_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("NOC_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=40)
    parser.add_argument("--send-s", type=float, default=30.0, help="how long the dispatcher sends")
    parser.add_argument("--peer-count", type=int, default=3000, help="mails the peers compose and send")
    args = parser.parse_args(argv)

    schema = f"bench_notices_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.pg else "?"
    port = free_port()
    sink = start_sink(port)
    settings = Settings(database_url=f"{args.pg}{sep}options=-csearch_path%3D{schema}",
                        secret_key="notices-benchmark-secret-key-0123456789", smtp_host="127.0.0.1", smtp_port=port,
                        mail_from=MAIL_FROM, public_url="https://noc.kabel.example", mail_rate_per_s=1_000_000,
                        mail_dispatch_interval_s=max(1, round(args.send_s)))
    db = Database(settings.resolved_database_url())
    try:
        upgrade(db)
        started = time.monotonic()
        populate(db, args.subscribers, args.segments)
        print(f"setup: {args.subscribers} subscribers on {args.segments} access segments in "
              f"{time.monotonic() - started:.1f} s", flush=True)
        rt = runtime(settings, db)
        start = utcnow() + timedelta(days=3)
        with db.session() as s:
            create_window(s, WindowIn(title="Node split", segments=["agg-1"], starts_at=start,
                                      ends_at=start + timedelta(hours=3), description_sl="Zamenjali bomo ojačevalnik.",
                                      description_en="We will replace an amplifier."), SYSTEM)
        started = time.monotonic()
        report = queue_notices(db, NoticePolicy.from_settings(settings))
        queue_s = time.monotonic() - started
        verdict = "met" if queue_s < GOAL_S else "MISSED"
        print(f"queue: {report.queued} mails for {args.subscribers} subscribers in {queue_s:.1f} s "
              f"({report.queued / queue_s:,.0f}/s; goal < {GOAL_S:.0f} s: {verdict})", flush=True)

        dispatcher = mail_dispatcher(rt)
        assert dispatcher is not None
        sent, took = send_for(dispatcher, args.send_s)
        send_rate = sent / took
        print(f"send: {sent} mails in {took:.1f} s = {send_rate:,.0f}/s (dispatcher: claim, compose, SMTP, record; "
              f"no pace limit)", flush=True)
        compose_rate, smtplib_rate = peers(db, NoticeComposer(rt), port, args.peer_count)
        print(f"peers over {args.peer_count} mails: compose alone {compose_rate:,.0f}/s; plain smtplib loop of "
              f"composed mails {smtplib_rate:,.0f}/s", flush=True)
        rt.close()
        print(f"subscribers={args.subscribers} queue_s={queue_s:.1f} queued={report.queued} "
              f"send_per_s={send_rate:.0f} compose_per_s={compose_rate:.0f} smtplib_per_s={smtplib_rate:.0f}")
        return 0 if queue_s < GOAL_S else 1
    finally:
        db.dispose()
        sink.terminate()
        sink.wait(10)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
