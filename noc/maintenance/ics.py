"""Calendar events (iCalendar, RFC 5545) of maintenance windows: one event per window with a stable UID, whose
SEQUENCE rises with each change, so a calendar that has it updates or removes the same event."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from typing import Any

from icalendar import Calendar, Event

PRODID = "-//noc//maintenance notices//EN"


def domain_of(mail_from: str) -> str:
    """The domain of the sender address (names event UIDs and Message-IDs)."""
    return (parseaddr(mail_from)[1] or mail_from).rpartition("@")[2] or "localhost"


def uid(window_id: int, mail_from: str) -> str:
    """The window's event UID (the same in every notice and in the feed)."""
    return f"maintenance-{window_id}@{domain_of(mail_from)}"


def event(window_id: int, sequence: int, fields: dict[str, Any], summary: str, description: str, *,
          mail_from: str, stamp: datetime, cancelled: bool = False, attendee: str | None = None) -> Event:
    """The event of a window as ``fields`` (a notice's content: ``starts_at``/``ends_at`` ISO) describe it."""
    item = Event()
    item.add("uid", uid(window_id, mail_from))
    item.add("sequence", sequence)
    item.add("dtstamp", stamp)
    item.add("dtstart", datetime.fromisoformat(fields["starts_at"]))
    if fields.get("ends_at"):
        item.add("dtend", datetime.fromisoformat(fields["ends_at"]))
    item.add("summary", summary)
    if description:
        item.add("description", description)
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    item.add("transp", "TRANSPARENT")  # it does not make the subscriber busy
    item.add("organizer", f"mailto:{parseaddr(mail_from)[1] or mail_from}")
    if attendee:
        item.add("attendee", f"mailto:{attendee}")
    return item


def calendar(events: list[Event], method: str) -> bytes:
    """A calendar of ``events`` with ``method`` (PUBLISH, or CANCEL for a cancellation), as bytes."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    for item in events:
        cal.add_component(item)
    return bytes(cal.to_ical())
