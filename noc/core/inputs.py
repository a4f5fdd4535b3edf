"""Input types shared by every capability's request and import shapes."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def not_a_number(value: Any) -> Any:
    """Refuse numbers, and strings that are numbers (a query's), where a date or time is meant: pydantic would
    read 0 as 1970-01-01, a Unix time."""
    if isinstance(value, int | float) or (isinstance(value, str) and NUMBER.fullmatch(value)):
        raise ValueError("must be a date (YYYY-MM-DD) or time (ISO 8601), not a number")
    return value


def not_bool(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is meant (pydantic would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Date = Annotated[date, BeforeValidator(not_a_number)]
"""A calendar date, given as ``YYYY-MM-DD``."""

DateTime = Annotated[datetime, BeforeValidator(not_a_number)]
"""A point in time, given in ISO 8601."""
