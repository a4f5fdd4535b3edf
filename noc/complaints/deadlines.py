"""The contract's complaint deadlines, as local dates, moved past Saturdays, Sundays and public holidays.

Complaints are lodged within 15 days of learning of the problem and at most 60 days from the invoice or the
event; the operator decides within 15 days of lodging; the subscriber may then turn to the regulator within 15
days of the decision, or within 30 days of lodging when no decision came. A deadline that falls on a Saturday,
Sunday or a Slovenian public holiday (the ``holidays`` package) moves to the next working day. Every figure is
a date in the operator's time zone: an instant is turned into its local date first, and days are added to
dates, never to instants (a DST change cannot move a deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

COUNTRY = "SI"
LEARNED_DAYS = 15
INVOICE_DAYS = 60
DECISION_DAYS = 15
REGULATOR_AFTER_DECISION_DAYS = 15
REGULATOR_WITHOUT_DECISION_DAYS = 30


@cache
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(COUNTRY, years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def deadline(start: date, days: int) -> date:
    """``days`` after ``start``, moved to the next working day when it falls on a weekend or holiday."""
    return next_working_day(start + timedelta(days=days))


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The date ``instant`` falls on in ``zone``."""
    return instant.astimezone(zone).date()


@dataclass(frozen=True)
class Lodging:
    """The last day a complaint may be lodged and the limit that sets it."""

    deadline: date
    limit: str
    """``learned_on`` (15 days) or ``invoice_date`` / ``event_date`` (60 days): the field whose limit binds."""


def lodging_deadline(learned_on: date, invoice_date: date | None, event_date: date | None) -> Lodging:
    """The earlier of 15 days from learning and 60 days from the invoice (or the event), each moved."""
    by_learning = deadline(learned_on, LEARNED_DAYS)
    field, base = ("invoice_date", invoice_date) if invoice_date is not None else ("event_date", event_date)
    if base is None:
        return Lodging(by_learning, "learned_on")
    by_invoice = deadline(base, INVOICE_DAYS)
    return Lodging(by_learning, "learned_on") if by_learning <= by_invoice else Lodging(by_invoice, field)


def decision_due(lodged_on: date) -> date:
    """The last day of the operator's decision."""
    return deadline(lodged_on, DECISION_DAYS)


@dataclass(frozen=True)
class RegulatorWindow:
    """When the subscriber may turn to the regulator."""

    opens: date
    closes: date
    basis: str
    """``decision`` (after the operator decided) or ``no_decision`` (the decision is overdue)."""


def regulator_window(lodged_on: date, decided_on: date | None) -> RegulatorWindow:
    """15 days from the decision; without one, from the day after the decision was due until 30 days from
    lodging."""
    if decided_on is not None:
        return RegulatorWindow(decided_on, deadline(decided_on, REGULATOR_AFTER_DECISION_DAYS), "decision")
    return RegulatorWindow(decision_due(lodged_on) + timedelta(days=1),
                           deadline(lodged_on, REGULATOR_WITHOUT_DECISION_DAYS), "no_decision")
