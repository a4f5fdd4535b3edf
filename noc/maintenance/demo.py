"""The demo's maintenance: planned works on one access segment (so a newcomer sees notices go out), and, when
no SMTP server is configured, an SMTP sink that keeps every mail as an .eml file in the demo's data directory."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from noc.core.capability import DemoContext, DemoPart
from noc.core.db import utcnow
from noc.core.security import Actor
from noc.maintenance.models import MaintenanceWindow
from noc.maintenance.service import NoticePolicy, WindowIn, create_window

log = logging.getLogger("noc.maintenance")

DEMO_ACTOR = Actor(name="demo", role="noc_engineer")
DEMO_SEGMENT = "sg-ljubljana-2"
"""Its subscribers read Slovenian and English."""
DEMO_TITLE = "Menjava ojačevalnika Ljubljana 2"
MAIL_DIR = "mail"


def seed(ctx: DemoContext) -> None:
    """Plan works on :data:`DEMO_SEGMENT` three nights from now, once (a restart keeps the first ones)."""
    rt = ctx.runtime
    with rt.db.session() as s:
        if s.scalar(select(MaintenanceWindow.id).where(MaintenanceWindow.title == DEMO_TITLE)) is not None:
            return
        zone = ZoneInfo(rt.settings.timezone)
        night = datetime.combine(utcnow().astimezone(zone).date() + timedelta(days=3), time(1, 0), zone)
        body = WindowIn(
            title=DEMO_TITLE, reason="amplifier replacement", segments=[DEMO_SEGMENT], impact="outage",
            starts_at=night, ends_at=night + timedelta(hours=3),
            description_sl="Zamenjali bomo ojačevalnik v kabelskem omrežju. Dostop do interneta, televizije in "
                           "telefonije bo v tem času prekinjen.",
            description_en="We will replace an amplifier in the cable network. Internet, television and telephone "
                           "will be interrupted during this time.")
        window = create_window(s, body, DEMO_ACTOR, "demo", policy=NoticePolicy.from_settings(rt.settings))
    ctx.notes.append(f"demo maintenance window {window.id} on {DEMO_SEGMENT}: its subscribers are told by e-mail; "
                     f"see /console/maintenance/{window.id} (sign in with the noc_engineer token) or "
                     f"/api/v1/maintenance/windows/{window.id}/notices")


class EmlSink:
    """An aiosmtpd handler that keeps every mail it accepts as an .eml file in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._numbers = itertools.count(len(list(directory.glob("*.eml"))) + 1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Write the mail as received."""
        path = self.directory / f"{utcnow():%Y%m%dT%H%M%S}-{next(self._numbers):05d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        return "250 kept"


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def mail_sink(ctx: DemoContext) -> Iterator[None]:
    """Mail goes to ``NOC_SMTP_HOST`` when set; otherwise to an SMTP sink writing .eml files, started here."""
    settings = ctx.runtime.settings
    if settings.smtp_host:
        ctx.notes.append(f"demo mail goes to the SMTP server {settings.smtp_host}:{settings.smtp_port}")
        yield
        return
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        ctx.notes.append("demo mail is queued, not sent: install aiosmtpd (pip install aiosmtpd) or set NOC_SMTP_HOST")
        yield
        return
    directory = ctx.data_dir / MAIL_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every address at INFO
    controller = Controller(EmlSink(directory), hostname="127.0.0.1", port=free_tcp_port())
    controller.start()
    # The demo's own settings object: the mail job reads it when the scheduler starts, after this.
    settings.smtp_host, settings.smtp_port = "127.0.0.1", controller.port
    ctx.notes.append(f"demo mail: an SMTP sink on 127.0.0.1:{controller.port} keeps every notice as an .eml file "
                     f"in {directory.resolve()}")
    try:
        yield
    finally:
        controller.stop()


DEMO = DemoPart(seed=seed, run=mail_sink)
