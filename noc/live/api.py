"""Live CPE session endpoints (agents and admins): open for an identified caller, list, stream, readings, close.

Refusals answer 403 ``caller_not_identified`` (the call does not come from the contract's contact number), 422
naming ``consent`` / ``note`` / ..., 404 for an unknown subscriber, 409 when the agent has the CPE open already and
429 when the cap on concurrent sessions is reached; each refusal is in the audit log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from noc.core.http import ERROR_RESPONSES, ErrorOut, Id, Paging, RuntimeDep, SessionDep, require
from noc.core.privacy import personal
from noc.core.security import Principal, Role
from noc.inventory.models import Cpe, Subscriber
from noc.live import service
from noc.live.models import LiveSession
from noc.live.stream import readings

AGENTS = frozenset({Role.ADMIN, Role.AGENT})
Agent = Annotated[Principal, Depends(require(AGENTS))]
STREAM = "/api/v1/live-sessions/{}/stream"
router = APIRouter(prefix="/live-sessions", tags=["live"], responses=ERROR_RESPONSES)


LIVE = personal("live_sessions")
"""The OpenAPI mark of a live session's personal fields."""
GIVEN: dict[str, Any] = {"minLength": 1, "pattern": r"[^\s\x1c-\x1f\x85]"}
r"""Schema-only statement of a field that must not be blank (Python's whitespace, which the service strips, is more
than JSON Schema's ``\s``); the service's refusal keeps its readable message."""


class OpenIn(BaseModel):
    """An identified caller's request for a live look at their CPE."""

    model_config = ConfigDict(extra="forbid")

    subscriber: str = Field(max_length=64, description="The subscriber number or username the caller gave.",
                            json_schema_extra=GIVEN)
    caller_number: str = Field(max_length=32, description="The number the call comes from (any usual notation).",
                               json_schema_extra=LIVE)
    contact_ref: str = Field(max_length=64, description="Reference of the recorded contact (call id, ticket).",
                             json_schema_extra={**LIVE, **GIVEN})
    reason: str = Field(max_length=1000, description="The problem the subscriber reports.",
                        json_schema_extra={**LIVE, **GIVEN})
    consent: bool = Field(False, description="The subscriber was told what the session allows and agreed (true).",
                          json_schema_extra={"const": True})
    cpe: str | None = Field(None, max_length=64, description="CPE serial; optional when the subscriber has one.")
    minutes: int | None = Field(None, description="Session length, at most NOC_LIVE_SESSION_MAX_MINUTES; default "
                                "NOC_LIVE_SESSION_MINUTES.", json_schema_extra={"minimum": 1})


class SessionOut(BaseModel):
    id: int
    agent: str
    subscriber: str
    cpe: str
    state: Literal["open", "closed", "expired"]
    contact_ref: str = Field(json_schema_extra=LIVE)
    reason: str = Field(json_schema_extra=LIVE)
    opened_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    note: str = Field(json_schema_extra=LIVE)
    stream_url: str


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=4000, description="What was done in this contact (mandatory).",
                      json_schema_extra={**LIVE, **GIVEN})


class ReadingOut(BaseModel):
    at: datetime
    state: str
    grade: str
    reading: dict[str, Any]


class SessionFilter(Paging):
    state: Literal["open", "closed", "expired"] | None = None


def out(session: Session, live: LiveSession) -> dict[str, Any]:
    """A session as the API shows it."""
    subscriber, cpe = session.get(Subscriber, live.subscriber_id), session.get(Cpe, live.cpe_id)
    return {"id": live.id, "agent": live.agent, "subscriber": subscriber.number if subscriber else "",
            "cpe": cpe.serial if cpe else "", "state": live.state, "contact_ref": live.contact_ref,
            "reason": live.reason, "opened_at": live.opened_at, "expires_at": live.expires_at,
            "closed_at": live.closed_at, "note": live.note, "stream_url": STREAM.format(live.id)}


@router.post("", status_code=201, response_model=SessionOut, summary="Open a live session for an identified caller",
             responses={429: {"model": ErrorOut, "description": "Too many live sessions are open."}})
def open_session(body: OpenIn, rt: RuntimeDep, s: SessionDep, who: Agent) -> Any:
    live = service.open_session(rt.db, rt.settings, who, service.OpenRequest(**body.model_dump()))
    return out(s, live)


@router.get("", response_model=SessionPage, summary="Live sessions (an agent's own; an admin's: all)")
def list_sessions(rt: RuntimeDep, s: SessionDep, who: Agent, query: Annotated[SessionFilter, Query()]) -> Any:
    service.expire_cycle(rt.db)
    items, total = service.list_sessions(s, who, query.state, query.limit, query.offset)
    return {"items": [out(s, live) for live in items], "total": total}


@router.get("/{session_id}", response_model=SessionOut, summary="One live session")
def get_session(session_id: Id, s: SessionDep, who: Agent) -> Any:
    return out(s, service.get(s, session_id, who))


@router.get("/{session_id}/stream", summary="Server-sent events: a `reading` every few seconds, `end` at the end",
            response_class=StreamingResponse)
def stream(session_id: Id, rt: RuntimeDep, who: Agent) -> StreamingResponse:
    opened = service.start_stream(rt.db, session_id, who, via="api")
    return StreamingResponse(readings(rt, opened), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/{session_id}/readings", response_model=list[ReadingOut], summary="The readings kept of a session")
def list_readings(session_id: Id, s: SessionDep, who: Agent, query: Annotated[Paging, Query()]) -> Any:
    service.get(s, session_id, who)
    return [{"at": r.at, "state": r.state, "grade": r.grade, "reading": json.loads(r.reading)}
            for r in service.readings(s, session_id, query.limit, query.offset)]


@router.post("/{session_id}/close", response_model=SessionOut, summary="Close with a note describing the work")
def close(session_id: Id, body: CloseIn, rt: RuntimeDep, s: SessionDep, who: Agent) -> Any:
    return out(s, service.close_session(rt.db, session_id, who, body.note))
