"""Shared pieces of the HTTP surface: the error type and format, sessions, authentication, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import Principal, Role

bearer = HTTPBearer(auto_error=False, description="An API token from `noc user add` or `noc user token`.")


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "field"}}`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return error_body(self.code, self.message, self.field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """noc's one error format."""
    return {"error": {"code": code, "message": message, "field": field}}


class ErrorDetail(BaseModel):
    """What went wrong, and the input field it concerns (if any)."""

    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    """The body of every 4xx answer."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 422)
}


def runtime(request: Request) -> Runtime:
    """The app's runtime (settings, database, events)."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def database(rt: RuntimeDep) -> Database:
    """The app's database."""
    return rt.db


def session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    """A session for one request; handlers commit what they mean to keep, the rest rolls back.

    On SQLite its first statement takes the write lock: handlers that only read take :data:`ReadSessionDep`.
    """
    with db.sessions() as s:
        yield s


SessionDep = Annotated[Session, Depends(session)]


def read_session(db: Annotated[Database, Depends(database)]) -> Iterator[Session]:
    """A session for a request that only reads: it never takes or waits for SQLite's write lock."""
    with db.read_session() as s:
        yield s


ReadSessionDep = Annotated[Session, Depends(read_session)]

BIGINT_MAX = 2**63 - 1
"""The largest id or count a database column holds (a signed 64-bit integer)."""

Id = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A record's id.")]
"""A record's id in a path: out of range is a 422 naming it, never a database error."""


def require(roles: frozenset[Role]) -> Callable[..., Principal]:
    """A dependency admitting callers with a valid token and one of ``roles``."""
    allowed = ", ".join(sorted(r.value for r in roles))

    def dependency(
        rt: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthenticated", "send an API token as 'Authorization: Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})
        principal = None
        if rt.authenticator is not None:
            with rt.db.read_session() as s:
                principal = rt.authenticator(s, credentials.credentials)
        if principal is None:
            raise ApiError(401, "invalid_token", "the API token is unknown, revoked or its user is disabled",
                           headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"role '{principal.role.value}' may not do this; allowed: {allowed}")
        return principal

    dependency.__doc__ = f"Admits roles: {allowed}."
    return dependency


ReasonHeader = Annotated[
    str, Header(alias="X-Noc-Reason", max_length=500, description="Why you look (kept in the audit log).")
]


class Paging(BaseModel):
    """Which page of a list to return; list endpoints' filter models extend it."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500, description="Items per page.")
    offset: int = Field(0, ge=0, le=BIGINT_MAX, description="Items to skip.")

