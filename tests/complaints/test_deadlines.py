"""Complaint deadlines over weekends, Slovenian public holidays and the DST change (local dates throughout)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from noc.complaints.deadlines import (
    deadline,
    decision_due,
    is_working_day,
    local_date,
    lodging_deadline,
    next_working_day,
    regulator_window,
)

LJ = ZoneInfo("Europe/Ljubljana")


def test_christmas_2026_moves_past_independence_day_and_the_weekend() -> None:
    # 25 Dec 2026 (Fri, Christmas), 26 Dec (Sat, Independence and Unity Day), 27 Dec (Sun)
    assert deadline(date(2026, 12, 10), 15) == date(2026, 12, 28)
    assert lodging_deadline(date(2026, 12, 10), date(2026, 12, 1), None).deadline == date(2026, 12, 28)


def test_new_year_2027_moves_to_monday_the_4th() -> None:
    # 1 Jan 2027 (Fri), 2 Jan (Sat, also a holiday), 3 Jan (Sun)
    assert decision_due(date(2026, 12, 17)) == date(2027, 1, 4)
    assert next_working_day(date(2027, 1, 1)) == date(2027, 1, 4)


def test_easter_monday_2027_moves_to_tuesday() -> None:
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday
    assert decision_due(date(2027, 3, 14)) == date(2027, 3, 30)


def test_dst_change_in_march_2027_does_not_move_a_deadline() -> None:
    # Clocks go from 02:00 to 03:00 on Sunday 28 March 2027 (Easter Sunday too).
    lodged_at = datetime(2027, 3, 15, 22, 30, tzinfo=UTC)  # 23:30 local on Monday 15 March (CET)
    lodged = local_date(lodged_at, LJ)
    assert lodged == date(2027, 3, 15)
    assert decision_due(lodged) == date(2027, 3, 30)
    naive = (lodged_at + timedelta(days=15)).astimezone(LJ).date()  # adding days to the instant goes wrong
    assert naive == date(2027, 3, 31)
    after_midnight = datetime(2027, 3, 15, 23, 30, tzinfo=UTC)  # 00:30 local on Tuesday 16 March
    assert local_date(after_midnight, LJ) == date(2027, 3, 16)
    assert decision_due(local_date(after_midnight, LJ)) == date(2027, 3, 31)
    assert local_date(datetime(2027, 3, 28, 1, 30, tzinfo=UTC), LJ) == date(2027, 3, 28)  # 03:30 CEST
    # a deadline on the day of the change itself (Sunday 28 March, Easter Sunday) moves past Easter Monday
    assert deadline(date(2027, 3, 13), 15) == date(2027, 3, 30)
    assert lodging_deadline(date(2027, 3, 13), None, date(2027, 3, 1)).deadline == date(2027, 3, 30)


def test_saturday_and_sunday_move_to_monday() -> None:
    assert deadline(date(2027, 5, 28), 15) == date(2027, 6, 14)  # 12 June is a Saturday
    assert deadline(date(2027, 5, 29), 15) == date(2027, 6, 14)  # 13 June is a Sunday
    assert deadline(date(2027, 5, 27), 15) == date(2027, 6, 11)  # a Friday stays


def test_holidays_that_are_working_days_do_not_move() -> None:
    assert is_working_day(date(2027, 6, 8))  # Primož Trubar Day: a holiday but not work-free


def test_lodging_deadline_is_the_earlier_limit() -> None:
    by_learning = lodging_deadline(date(2027, 2, 1), date(2027, 1, 20), None)
    assert (by_learning.deadline, by_learning.limit) == (date(2027, 2, 16), "learned_on")
    by_invoice = lodging_deadline(date(2027, 3, 25), date(2027, 2, 1), None)
    assert (by_invoice.deadline, by_invoice.limit) == (date(2027, 4, 2), "invoice_date")  # 60 days: 2 April
    by_event = lodging_deadline(date(2027, 3, 25), None, date(2027, 2, 1))
    assert by_event.limit == "event_date"


def test_regulator_window_after_a_decision_and_without_one() -> None:
    decided = regulator_window(date(2027, 3, 1), date(2027, 3, 10))
    assert (decided.opens, decided.closes, decided.basis) == (date(2027, 3, 10), date(2027, 3, 25), "decision")
    silent = regulator_window(date(2027, 3, 1), None)
    # decision due 16 March; 30 days from lodging is 31 March (a Wednesday)
    assert (silent.opens, silent.closes, silent.basis) == (date(2027, 3, 17), date(2027, 3, 31), "no_decision")
    holiday = regulator_window(date(2027, 3, 1), date(2027, 3, 14))  # 29 March: Easter Monday
    assert holiday.closes == date(2027, 3, 30)
