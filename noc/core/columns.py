"""Column helpers shared by every capability's tables."""

from __future__ import annotations

from sqlalchemy import CheckConstraint


def one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A check constraint limiting ``column`` to ``values``."""
    return CheckConstraint(f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")", name=name)
