"""Turning validation failures into (field, message) pairs that name the offending field."""

from __future__ import annotations

import re

from pydantic import ValidationError

FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


def clean_message(message: str) -> str:
    """Pydantic's message without its ``Value error, `` prefix."""
    return message.removeprefix("Value error, ")


def field_of(loc: tuple[int | str, ...], message: str) -> tuple[str | None, str]:
    """The dotted field a validation error is about and its message.

    Errors raised by whole-object checks carry their field as a ``field: message`` prefix.
    """
    path = [str(part) for part in loc if part not in ("body", "query", "path")]
    path = [part for part in path if not part.startswith("function-")]
    message = clean_message(message)
    match = FIELD_PREFIX.match(message)
    if match:
        path.append(match.group(1))
        message = match.group(2)
    return (".".join(path) or None), message


def field_errors(error: ValidationError) -> list[tuple[str | None, str]]:
    """Every problem in ``error`` as (field, message)."""
    return [field_of(tuple(e["loc"]), e["msg"]) for e in error.errors()]
