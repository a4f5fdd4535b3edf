"""Audit endpoints: read the log, verify the chain (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from noc.audit.service import parse_details, recent, verify_chain
from noc.core.http import ERROR_RESPONSES, Paging, ReadSessionDep, RuntimeDep, require
from noc.core.inputs import DateTime
from noc.core.security import ADMINS, Principal

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(require(ADMINS))]


class AuditFilter(Paging):
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None


class AuditEntryOut(BaseModel):
    seq: int
    at: DateTime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    reason: str
    details: dict[str, Any]
    digest: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    problem: str


@router.get("", response_model=list[AuditEntryOut], summary="Newest audit entries first")
def list_entries(s: ReadSessionDep, _: Admin, query: Annotated[AuditFilter, Query()]) -> list[dict[str, Any]]:
    filters = {k: v for k, v in query.model_dump(exclude={"limit", "offset"}).items() if v is not None}
    return [
        {**{c: getattr(e, c) for c in AuditEntryOut.model_fields if c != "details"}, "details": parse_details(e)}
        for e in recent(s, query.limit, query.offset, **filters)
    ]


@router.get("/verify", response_model=VerifyOut, summary="Check the hash chain")
def verify(s: ReadSessionDep, rt: RuntimeDep, _: Admin) -> dict[str, Any]:
    result = verify_chain(s, rt.settings.resolved_anchor_file())
    return {"ok": result.ok, "checked": result.checked, "broken_seq": result.broken_seq, "problem": result.problem}
