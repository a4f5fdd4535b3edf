"""Input types shared by every capability's request and import shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator


def not_a_number(value: Any) -> Any:
    """Refuse numbers where a date or time is meant (pydantic would read 0 as 1970-01-01, a Unix time)."""
    if isinstance(value, int | float):
        raise ValueError("must be a date (YYYY-MM-DD) or time (ISO 8601), not a number")
    return value


Date = Annotated[date, BeforeValidator(not_a_number)]
"""A calendar date, given as ``YYYY-MM-DD``."""

DateTime = Annotated[datetime, BeforeValidator(not_a_number)]
"""A point in time, given in ISO 8601."""
