"""Privacy endpoints: a subscriber's export, erasure and legal holds; the records of processing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from noc.core.http import ERROR_RESPONSES, Id, RuntimeDep, SessionDep, require
from noc.core.security import Principal, Role
from noc.privacy import service
from noc.privacy.models import LegalHold

router = APIRouter(tags=["privacy"], responses=ERROR_RESPONSES)
Exporter = Annotated[Principal, Depends(require(frozenset({Role.ADMIN, Role.COMPLAINT_HANDLER})))]
Admin = Annotated[Principal, Depends(require(frozenset({Role.ADMIN})))]
GIVEN = r"\w"
"""A reason says something: at least one letter or digit (not only blanks or control characters)."""
RequiredReason = Annotated[str, Header(alias="X-Noc-Reason", min_length=1, max_length=500, pattern=GIVEN,
                                       description="Why (e.g. the subscriber's request reference; kept in the audit "
                                       "log).")]


class ReasonIn(BaseModel):
    """Why (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, pattern=GIVEN)


class HoldOut(BaseModel):
    id: int
    subscriber_id: int
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None


@router.get("/subscribers/{subscriber_id}/export", response_class=Response,
            responses={200: {"content": {"application/json": {}, "application/zip": {}}}},
            summary="Everything noc holds about the subscriber (subject access, portability); X-Noc-Reason required")
def export(subscriber_id: Id, rt: RuntimeDep, s: SessionDep, who: Exporter, reason: RequiredReason,
           format: Annotated[Literal["json", "zip"], Query(description="zip adds the evidence files")] = "json"
           ) -> Response:
    document = service.export(s, rt.personal_data, who.actor, subscriber_id, reason)
    s.commit()
    if format == "zip":
        return Response(service.export_zip(s, rt.personal_data, document), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="subscriber-{subscriber_id}.zip"'})
    return Response(json.dumps(document, ensure_ascii=False, default=str), media_type="application/json")


@router.post("/subscribers/{subscriber_id}/erase",
             summary="Anonymise the subscriber (409 with the reasons when a hold applies)")
def erase(subscriber_id: Id, body: ReasonIn, rt: RuntimeDep, s: SessionDep, who: Admin) -> dict[str, Any]:
    counts = service.erase(s, rt.personal_data, who.actor, subscriber_id, body.reason)
    s.commit()
    return {"subscriber": subscriber_id, "erased": counts}


@router.get("/subscribers/{subscriber_id}/holds", response_model=list[HoldOut], summary="The subscriber's holds")
def holds(subscriber_id: Id, s: SessionDep, who: Admin) -> Any:
    return list(s.scalars(select(LegalHold).where(LegalHold.subscriber_id == subscriber_id).order_by(LegalHold.id)))


@router.post("/subscribers/{subscriber_id}/holds", status_code=201, response_model=HoldOut,
             summary="Place a legal hold: nothing of the subscriber is erased or expired until it is released")
def place_hold(subscriber_id: Id, body: ReasonIn, s: SessionDep, who: Admin) -> Any:
    hold = service.place_hold(s, who.actor, subscriber_id, body.reason)
    s.commit()
    return hold


@router.post("/subscribers/{subscriber_id}/holds/{hold_id}/release", response_model=HoldOut,
             summary="Release a legal hold")
def release_hold(subscriber_id: Id, hold_id: Id, body: ReasonIn, s: SessionDep, who: Admin) -> Any:
    hold = service.release_hold(s, who.actor, subscriber_id, hold_id, body.reason)
    s.commit()
    return hold


@router.get("/privacy/records", summary="The records of processing: each kind of personal data noc holds")
def records_of_processing(rt: RuntimeDep, who: Admin) -> list[dict[str, Any]]:
    days = service.retention_days(rt.personal_data, rt.settings)
    return [{"kind": kind.name, "capability": capability, "description": kind.description, "purpose": kind.purpose,
             "legal_basis": kind.legal_basis, "retention": kind.retention, "retention_days": days.get(kind.name),
             "stored_in": kind.stored_in} for capability, kind in service.kinds(rt.personal_data)]
