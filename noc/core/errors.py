"""noc's error types and the conversion of validation failures into (field, message) pairs."""

from __future__ import annotations

import re

from pydantic import ValidationError


class NocError(Exception):
    """A request that cannot be done, as the user should read it: ``field`` names the offending input field.

    The API answers it with ``status`` and ``code``; the CLI prints ``field: message`` on one line.
    """

    status = 422
    code = "invalid"

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

class InvalidInput(NocError):
    """Input that breaks a rule (422)."""

class NotFound(NocError):
    """The object asked for does not exist (404)."""

    status = 404
    code = "not_found"

class Conflict(NocError):
    """The change conflicts with the state of another record (409)."""

    status = 409
    code = "conflict"

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
