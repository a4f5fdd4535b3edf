"""Polling endpoints: each device's and CPE's last poll, and CPE fleet health."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from noc.core.http import ERROR_RESPONSES, Id, Paging, ReadSessionDep, require
from noc.core.inputs import DateTime
from noc.core.security import ALL_ROLES, NETWORK_READERS, Principal
from noc.inventory.kinds import CPE
from noc.inventory.models import Cpe, Device
from noc.inventory.service import get_by_id
from noc.polling.models import CpeHealth, PollStatus

router = APIRouter(tags=["polling"], responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]
NetworkReader = Annotated[Principal, Depends(require(NETWORK_READERS))]


class PollStatusOut(BaseModel):
    target_kind: str
    target_id: int
    name: str
    at: DateTime
    ok: bool
    duration_s: float
    error: str
    consecutive_failures: int
    last_ok_at: DateTime | None
    invalid_readings: int
    invalid_detail: str


class PollStatusFilter(Paging):
    kind: Literal["device", "cpe"] = "device"
    ok: bool | None = None


@router.get("/polling/status", summary="Last poll of each device or CPE")
def poll_status(s: ReadSessionDep, _: NetworkReader, query: Annotated[PollStatusFilter, Query()]) -> dict[str, Any]:
    model, name_col = (Device, Device.name) if query.kind == "device" else (Cpe, Cpe.serial)
    base = (select(PollStatus, name_col).join(model, model.id == PollStatus.target_id)
            .where(PollStatus.target_kind == query.kind))
    if query.ok is not None:
        base = base.where(PollStatus.ok.is_(query.ok))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.execute(base.order_by(PollStatus.target_id).limit(query.limit).offset(query.offset)).all()
    items = [PollStatusOut(name=name, **{c: getattr(st, c) for c in PollStatusOut.model_fields if c != "name"})
             for st, name in rows]
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}


class HealthOut(BaseModel):
    cpe_id: int
    serial: str
    at: DateTime | None
    grade: str | None
    findings: list[dict[str, Any]]


@router.get("/cpes/{cpe_id}/health", response_model=HealthOut, summary="A CPE's newest fleet-health verdict")
def cpe_health(cpe_id: Id, s: ReadSessionDep, _: NetworkReader) -> dict[str, Any]:
    cpe = get_by_id(s, CPE, cpe_id)
    health = s.get(CpeHealth, cpe_id)
    return {"cpe_id": cpe_id, "serial": cpe.serial, "at": health.at if health else None,  # type: ignore[attr-defined]
            "grade": health.grade if health else None,
            "findings": json.loads(health.findings) if health else []}


class FleetHealthOut(BaseModel):
    grades: dict[str, int]
    worst: list[HealthOut]


@router.get("/health/cpes", response_model=FleetHealthOut, summary="CPE fleet health: counts by grade, worst first")
def fleet_health(s: ReadSessionDep, _: NetworkReader,
                 limit: Annotated[int, Query(ge=1, le=500)] = 20) -> dict[str, Any]:
    grades = {g: int(n) for g, n in s.execute(select(CpeHealth.grade, func.count()).group_by(CpeHealth.grade))}
    order = {"unreachable": 0, "bad": 1, "marginal": 2, "good": 3}
    rows = list(s.execute(select(CpeHealth, Cpe.serial).join(Cpe, Cpe.id == CpeHealth.cpe_id)
                          .where(CpeHealth.grade != "good")).all())
    rows.sort(key=lambda r: (order.get(r[0].grade, 9), r[0].cpe_id))
    worst = [{"cpe_id": h.cpe_id, "serial": serial, "at": h.at, "grade": h.grade, "findings": json.loads(h.findings)}
             for h, serial in rows[:limit]]
    return {"grades": grades, "worst": worst}
