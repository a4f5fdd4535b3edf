"""The mail of a notice to one subscriber: in their language (Slovenian unless they chose English), plain text
and HTML from Jinja2 templates, the window as a calendar event, and a one-click opt-out (RFC 8058).

Mails are composed when they are sent, from the notice's content and the subscriber as they are then: a
subscriber who opted out in the meantime, or a notice a later one replaced, is withdrawn instead. A mail's
Message-ID and Date depend only on the outbox message, so a mail sent again carries the same ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from icalendar import Event
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import lazyload

from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.inventory.service import contacts
from noc.maintenance import ics
from noc.maintenance.models import MaintenanceWindow, Notice
from noc.maintenance.notices import stale_reason
from noc.maintenance.optout import PURPOSE, make_token
from noc.outbox.models import OutboxMessage
from noc.outbox.service import Withdrawn

MESSAGE_ID_PURPOSE = "maintenance-message-ids"
UTF8 = "utf-8"
"""Mails go out 7-bit clean whatever the relay supports: parts in base64, non-ASCII headers as encoded words."""
OPTOUT_MARK = "@@noc-optout-url@@"
"""Stands for the subscriber's opt-out link in a notice rendered for all its subscribers."""
RENDERED_KEPT = 64
CALENDAR_KINDS = frozenset({"announcement", "reminder", "update", "cancellation"})
"""Notices that carry the window as a calendar event (a cancellation removes it)."""
DAYS = {"sl": ["ponedeljek", "torek", "sreda", "četrtek", "petek", "sobota", "nedelja"],
        "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
SUMMARY = {"sl": {"planned": "Vzdrževalna dela v omrežju", "outage": "Motnja v omrežju"},
           "en": {"planned": "Network maintenance", "outage": "Network outage"}}


@cache
def templates() -> Environment:
    """The Jinja2 environment of ``noc/maintenance/templates`` (HTML escaped, undefined names an error)."""
    return Environment(loader=PackageLoader("noc.maintenance", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True)


def when(moment: datetime, lang: str, zone: ZoneInfo) -> str:
    """A moment as subscribers read it, in the operator's time zone: 'sobota, 12. 12. 2026 ob 02:00 (CET)'."""
    local = moment.astimezone(zone)
    day = DAYS[lang][local.weekday()]
    if lang == "sl":
        return f"{day}, {local.day}. {local.month}. {local.year} ob {local:%H:%M} ({local:%Z})"
    return f"{day} {local.day} {MONTHS_EN[local.month - 1]} {local.year} at {local:%H:%M} ({local:%Z})"


def span(start: datetime, end: datetime | None, lang: str, zone: ZoneInfo) -> str:
    """When works run: 'petek, 4. 12. 2026, od 20:00 do 23:00 (CET)' within a day, else two moments."""
    if end is None:
        return when(start, lang, zone)
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() != last.date():
        return f"{when(start, lang, zone)} – {when(end, lang, zone)}" if lang == "sl" else \
            f"{when(start, lang, zone)} to {when(end, lang, zone)}"
    day = when(start, lang, zone).rsplit(" ob " if lang == "sl" else " at ", 1)[0]
    zone_name = f"{last:%Z}"
    return f"{day}, od {first:%H:%M} do {last:%H:%M} ({zone_name})" if lang == "sl" else \
        f"{day}, {first:%H:%M} to {last:%H:%M} ({zone_name})"


def day_of(moment: datetime, lang: str, zone: ZoneInfo) -> str:
    """The local date of a moment: '12. 12. 2026' or '12 December 2026'."""
    local = moment.astimezone(zone)
    return f"{local.day}. {local.month}. {local.year}" if lang == "sl" else \
        f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"


def description(fields: dict[str, Any], lang: str) -> str:
    """The description in ``lang``, else in the other language."""
    other = "en" if lang == "sl" else "sl"
    return str(fields.get(f"description_{lang}") or fields.get(f"description_{other}") or "")


@dataclass(frozen=True)
class Rendered:
    """What a notice says in one language, its opt-out link left as :data:`OPTOUT_MARK`."""

    subject: str
    text: str
    html: str
    event: Event | None
    published: str | None
    """The calendar with the event published (cancellations name their recipient: made per mail)."""


class NoticeComposer:
    """Composes the mail of an outbox message queued for a notice (the e-mail channel's composer)."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.db: Database = runtime.db
        self.mail_from = settings.mail_from
        self.public_url = settings.resolved_public_url()
        self.zone = ZoneInfo(settings.timezone)
        self.optout_signer = runtime.signer(PURPOSE)
        self.id_signer = runtime.signer(MESSAGE_ID_PURPOSE)
        name, address = parseaddr(self.mail_from)
        self.sender = formataddr((name, address or self.mail_from), charset=UTF8)
        self._rendered: dict[tuple[int, str], Rendered] = {}
        self._notices: dict[int, Notice] = {}

    def __call__(self, message: OutboxMessage) -> Message:
        """The mail of ``message``; raises :class:`Withdrawn` when it should no longer go out."""
        data = message.data
        with self.db.read_session() as s:
            notice = self._notices.get(data["notice"]) or s.get(Notice, data["notice"])
            if notice is None:
                raise Withdrawn("the notice was deleted")
            self._notices[notice.id] = notice  # a notice never changes; its window does
            window = s.get(MaintenanceWindow, notice.window_id, options=[lazyload(MaintenanceWindow.segments)])
            contact = s.execute(contacts([data["subscriber"]], notice.category)).one_or_none()
        reason = stale_reason(notice, window, utcnow())
        if reason is not None:
            raise Withdrawn(reason)
        if contact is None:
            raise Withdrawn("the subscriber was deleted")
        if contact.opted_out:
            raise Withdrawn(f"the subscriber opted out of {notice.category} notices")
        return self.compose(notice, contact.id, contact.language, message.destination, message.idempotency_key)

    def optout_url(self, subscriber_id: int, category: str) -> str:
        """The subscriber's opt-out link for ``category``."""
        return f"{self.public_url}/optout/{make_token(self.optout_signer, subscriber_id, category)}"

    def message_id(self, key: str) -> str:
        """The Message-ID of the mail of outbox key ``key``: stable, and revealing nothing of the key."""
        return f"<{self.id_signer.tag(key.encode()).hex()}@{ics.domain_of(self.mail_from)}>"

    def render(self, notice: Notice, lang: str) -> Rendered:
        """What ``notice`` says in ``lang`` (kept for the mails that follow: a notice never changes)."""
        cached = self._rendered.get((notice.id, lang))
        if cached is not None:
            return cached
        fields = notice.content
        start = datetime.fromisoformat(fields["starts_at"])
        end = datetime.fromisoformat(fields["ends_at"]) if fields.get("ends_at") else None
        text = description(fields, lang)
        context = {
            "lang": lang, "kind": notice.kind, "category": notice.category, "impact": fields["impact"],
            "period": span(start, end, lang, self.zone) if notice.kind not in ("completion", "outage_resolved")
            else None,
            "description": text, "calendar": notice.kind in CALENDAR_KINDS, "optout_url": OPTOUT_MARK,
            "sender": parseaddr(self.mail_from)[0],
        }
        env = templates()
        texts = env.get_template(f"{lang}.j2").module
        subject = " ".join(str(texts.subject(notice.kind, day_of(start, lang, self.zone))).split())  # type: ignore[attr-defined]
        event, published = None, None
        if notice.kind in CALENDAR_KINDS:
            summary = f"{SUMMARY[lang]['planned']}: {fields['title']}"
            event = ics.event(notice.window_id, notice.sequence, fields, summary, text, mail_from=self.mail_from,
                              stamp=notice.created_at, cancelled=notice.kind == "cancellation")
            if notice.kind != "cancellation":
                published = ics.calendar([event], "PUBLISH").decode()
        rendered = Rendered(subject, env.get_template("notice.txt.j2").render(**context),
                            env.get_template("notice.html.j2").render(subject=subject, **context), event, published)
        if len(self._rendered) >= RENDERED_KEPT:
            self._rendered.clear()
            self._notices.clear()
        self._rendered[(notice.id, lang)] = rendered
        return rendered

    def compose(self, notice: Notice, subscriber_id: int, language: str, to: str, key: str) -> Message:
        """The mail of ``notice`` to one subscriber."""
        lang = language if language in DAYS else "sl"
        rendered = self.render(notice, lang)
        optout_url = self.optout_url(subscriber_id, notice.category)
        # Fixed boundaries: the parts are base64 and cannot contain them, and the generator need not search.
        body = MIMEMultipart("alternative", boundary=f"=_noc_{notice.id}_alternative")
        body.attach(MIMEText(rendered.text.replace(OPTOUT_MARK, optout_url), "plain", UTF8))
        body.attach(MIMEText(rendered.html.replace(OPTOUT_MARK, optout_url), "html", UTF8))
        mail = body
        if rendered.event is not None:
            mail = MIMEMultipart("mixed", boundary=f"=_noc_{notice.id}_mixed")
            mail.attach(body)
            mail.attach(self.calendar_part(rendered.event, rendered.published, to))
        mail["From"] = self.sender
        mail["To"] = to
        # A Header is folded into encoded words by the generator (typeshed wants a str; the email package takes both)
        mail["Subject"] = cast(str, Header(rendered.subject, UTF8, header_name="Subject"))
        mail["Date"] = format_datetime(notice.created_at)
        mail["Message-ID"] = self.message_id(key)
        mail["Content-Language"] = lang
        mail["Auto-Submitted"] = "auto-generated"
        mail["List-Unsubscribe"] = f"<{optout_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return mail

    @staticmethod
    def calendar_part(event: Event, published: str | None, to: str) -> MIMEText:
        """The calendar attachment: the event ``published`` already, or cancelled with the recipient as attendee."""
        method, text = "PUBLISH", published
        if text is None:
            cancelled = copy.deepcopy(event)
            cancelled.add("attendee", f"mailto:{to}")
            method, text = "CANCEL", ics.calendar([cancelled], "CANCEL").decode()
        part = MIMEText(text, "calendar", UTF8)
        part.set_param("method", method)
        part.add_header("Content-Disposition", "attachment", filename="maintenance.ics")
        return part
