"""Speed complaint endpoints: measurements, discrepancy records, complaint cases, evidence packs.

Every endpoint admits complaint handlers and admins. Reads of a subscriber's record or evidence are audited
(with the ``X-Noc-Reason`` header) like other personal data.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from noc.audit.service import record as audit
from noc.complaints import service
from noc.complaints.measurements import (
    COLUMNS,
    MAX_KBIT,
    MEDIA,
    MeasurementsRejected,
    MeasurementWriter,
    Records,
    read_records,
)
from noc.complaints.models import OBJECT, CaptureReading, ComplaintCase, EvidencePack, Measurement
from noc.core.errors import NotFound
from noc.core.http import (
    ERROR_RESPONSES,
    ApiError,
    Id,
    Paging,
    ReadSessionDep,
    ReasonHeader,
    RuntimeDep,
    SessionDep,
    error_body,
    require,
)
from noc.core.inputs import Date, DateTime
from noc.core.privacy import personal
from noc.core.security import Principal, Role
from noc.inventory.models import Subscriber

HANDLERS = frozenset({Role.ADMIN, Role.COMPLAINT_HANDLER})
Handler = Annotated[Principal, Depends(require(HANDLERS))]
MAX_UPLOAD = 512 * 1024 * 1024
router = APIRouter(responses=ERROR_RESPONSES)


# --- measurements ----------------------------------------------------------------------------------------------


def any_case(word: str) -> str:
    """A regular expression matching ``word`` in any letter case (JSON Schema patterns have no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


MEDIA_PATTERN = "^\\s*(" + "|".join(any_case(name) for name in MEDIA) + ")?\\s*$"
"""What ``network_type`` and ``cat_technology`` accept (empty is none)."""


KBIT: dict[str, Any] = {"minimum": 0, "maximum": MAX_KBIT}
MS: dict[str, Any] = {"minimum": 0, "maximum": 600_000}


class MeasurementIn(BaseModel):
    """One measurement as the regulator's tool exports it (RMBT open data), plus the subscriber's number.

    The rules the import's row check enforces (:func:`noc.complaints.measurements.parse_row`, whose messages
    the API answers) are stated in the OpenAPI document."""

    model_config = ConfigDict(extra="forbid")

    subscriber: str = Field(description="The subscriber's number.",
                            json_schema_extra={"minLength": 1, "maxLength": 64, "pattern": r"\S"})
    open_test_uuid: str = Field(description="The test's id: O followed by a UUID.", json_schema_extra={
        "pattern": r"^\s*O?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$"})
    time_utc: str = Field(description="When the test ran, UTC: 2026-03-12 19:40:05 or ISO 8601 with a zone; a real "
                          "calendar time, not in the future.", json_schema_extra={
                              "maxLength": 40, "pattern": r"^\s*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                                                        r"(Z|[+-]\d{2}:\d{2})?\s*$"})
    download_kbit: float = Field(json_schema_extra=KBIT)
    upload_kbit: float = Field(json_schema_extra=KBIT)
    ping_ms: float = Field(json_schema_extra=MS)
    jitter_ms: float | None = Field(None, json_schema_extra=MS)
    packet_loss: float | None = Field(None, description="Percent.", json_schema_extra={"minimum": 0, "maximum": 100})
    server_name: str | None = Field(None, description="Kept to its first 128 characters.")
    platform: str | None = Field(None, description="Kept to its first 64 characters.")
    network_type: str | None = Field(None, description="LAN, WLAN or a mobile technology.",
                                     json_schema_extra={"pattern": MEDIA_PATTERN})
    cat_technology: str | None = Field(None, json_schema_extra={"pattern": MEDIA_PATTERN})


class MeasurementOut(BaseModel):
    id: int
    subscriber: str
    open_test_uuid: str
    time_utc: DateTime
    download_kbit: int
    upload_kbit: int
    ping_ms: float
    jitter_ms: float | None
    packet_loss: float | None
    server_name: str
    platform: str
    medium: str
    source_sha256: str
    imported_at: DateTime


class ImportOut(BaseModel):
    file: str
    sha256: str
    imported: int


class RowErrorOut(BaseModel):
    row: str
    field: str | None
    message: str


def _out(m: Measurement, number: str) -> dict[str, Any]:
    return {**{c: getattr(m, c) for c in MeasurementOut.model_fields if c != "subscriber"}, "subscriber": number}


def _rejected(exc: MeasurementsRejected) -> JSONResponse:
    body = error_body("invalid", exc.message, exc.field)
    body["errors"] = [{"row": e.where, "field": e.field, "message": e.message} for e in exc.errors]
    return JSONResponse(body, status_code=422)


@router.post("/measurements", status_code=201, response_model=MeasurementOut, tags=["measurements"],
             summary="Add one measurement")
def add_measurement(body: MeasurementIn, s: SessionDep, who: Handler, reason: ReasonHeader = "") -> Any:
    values = body.model_dump(exclude_none=True)
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":")).encode()
    writer = MeasurementWriter(s, who.actor, reason=reason, via="api")
    try:
        result = writer.store(canonical, Records("request", "item", [(1, values)]), keep_ids=True)
    except MeasurementsRejected as exc:
        s.rollback()
        return _rejected(exc)
    s.commit()
    stored = s.get(Measurement, result.ids[0])
    assert stored is not None
    return _out(stored, body.subscriber)


@router.post("/measurements/import", status_code=201, response_model=ImportOut, tags=["measurements"],
             summary="Import a CSV or JSON file of measurements: all rows or none",
             responses={422: {"description": "Bad rows: `errors` names each row and field; nothing was written."}})
def import_measurements(s: SessionDep, who: Handler, file: Annotated[UploadFile, File(
        description=f"CSV or JSON; columns {', '.join(COLUMNS)} (others are ignored).")],
        reason: ReasonHeader = "") -> Any:
    content = file.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ApiError(413, "too_large", f"files of at most {MAX_UPLOAD // 2**20} MiB", "file")
    name = file.filename or "upload"
    writer = MeasurementWriter(s, who.actor, reason=reason, via="api")
    try:
        result = writer.store(content, read_records(name, content))
    except MeasurementsRejected as exc:
        s.rollback()
        return _rejected(exc)
    s.commit()
    return {"file": name, "sha256": result.sha256, "imported": result.stored}


class MeasurementFilter(Paging):
    subscriber: str | None = None
    since: DateTime | None = None
    until: DateTime | None = None


@router.get("/measurements", tags=["measurements"], summary="Measurements, newest first")
def list_measurements(s: SessionDep, who: Handler, query: Annotated[MeasurementFilter, Query()],
                      reason: ReasonHeader = "") -> dict[str, Any]:
    base = select(Measurement, Subscriber.number).join(Subscriber, Subscriber.id == Measurement.subscriber_id)
    if query.subscriber is not None:
        base = base.where(Subscriber.number == query.subscriber)
    if query.since is not None:
        base = base.where(Measurement.time_utc >= query.since)
    if query.until is not None:
        base = base.where(Measurement.time_utc < query.until)
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.execute(base.order_by(Measurement.time_utc.desc(), Measurement.id.desc())
                     .limit(query.limit).offset(query.offset)).all()
    audit(s, who.actor, "measurements.read", "subscriber", query.subscriber or "-", reason=reason,
          details={"rows": len(rows)})
    s.commit()
    return {"items": [MeasurementOut(**_out(m, n)) for m, n in rows], "total": total, "limit": query.limit,
            "offset": query.offset}


# --- discrepancy records ---------------------------------------------------------------------------------------


@router.get("/subscribers/{subscriber_id}/discrepancy", tags=["complaints"],
            summary="Discrepancy record: the regulator's method applied, network context, likely cause")
def discrepancy(subscriber_id: Id, rt: RuntimeDep, s: SessionDep, who: Handler,
                start: Annotated[Date | None, Query(alias="from", description="Local date; default 29 days "
                                                     "before `to`.")] = None,
                end: Annotated[Date | None, Query(alias="to", description="Local date; default today.")] = None,
                profile: Annotated[str | None, Query(description="Rule profile; default si-akos.")] = None,
                reason: ReasonHeader = "") -> dict[str, Any]:
    found = service.subscriber_record(s, rt.settings, subscriber_id, start, end, profile)
    document = found.document()
    audit(s, who.actor, "complaint.record.read", "subscriber", str(subscriber_id), reason=reason,
          details={"from": found.start, "to": found.end, "profile": found.profile.name, "verdict": found.verdict})
    s.commit()
    return document


@router.get("/complaint-profiles", tags=["complaints"], summary="The rule profiles in force")
def list_profiles(rt: RuntimeDep, _: Handler) -> list[dict[str, Any]]:
    return [profile.model_dump(mode="json") for profile in service.profiles(rt.settings).values()]


# --- cases -----------------------------------------------------------------------------------------------------


class WindowOut(BaseModel):
    opens: Date
    closes: Date
    basis: Literal["decision", "no_decision"]


class CaptureOut(BaseModel):
    until: DateTime
    ended_at: DateTime | None
    end_reason: str
    active: bool


class PackOut(BaseModel):
    version: int
    generated_at: DateTime
    sha256: str
    verdict: str


class CaseOut(BaseModel):
    id: int
    subscriber: str
    subscriber_id: int
    subscriber_name: str = Field(json_schema_extra=personal("complaint_cases"))
    channel: str
    description: str = Field(json_schema_extra=personal("complaint_cases"))
    learned_on: Date
    invoice_date: Date | None
    event_date: Date | None
    lodged_on: Date
    lodging_deadline: Date
    late: bool
    late_override_reason: str | None
    decision_due: Date
    regulator_window: WindowOut
    state: str
    outcome: str | None
    remedy: str | None
    decision_note: str
    decided_on: Date | None
    profile: str
    period_from: Date
    period_to: Date
    record: str = Field(description="URL of the linked discrepancy record.")
    capture: CaptureOut
    evidence: list[PackOut]
    created_by: str
    created_at: DateTime


class CaseFilter(Paging):
    due_within: int | None = Field(None, ge=0, le=365, description="Open cases whose decision is due within N "
                                   "days (overdue included), soonest first.")
    state: Literal["open", "decided"] | None = None
    subscriber: str | None = None


def _case(s: SessionDep, case_id: int) -> ComplaintCase:
    return service.get_case(s, case_id)


@router.post("/complaints", status_code=201, response_model=CaseOut, tags=["complaints"],
             summary="Open a complaint case (deadlines computed; a late one needs override_reason)")
def open_case(body: service.CaseIn, rt: RuntimeDep, s: SessionDep, who: Handler,
              reason: ReasonHeader = "") -> dict[str, Any]:
    case = service.open_case(s, rt.settings, who.actor, body, reason)
    s.commit()
    return service.case_document(s, case)


@router.get("/complaints", tags=["complaints"], summary="Complaint cases; ?due_within=N for those due soon")
def list_cases(rt: RuntimeDep, s: ReadSessionDep, _: Handler, query: Annotated[CaseFilter, Query()]) -> dict[str, Any]:
    cases, total = service.due_cases(s, rt.settings, query.due_within, query.state, query.subscriber, query.limit,
                                     query.offset)
    return {"items": [CaseOut(**service.case_document(s, c)) for c in cases], "total": total,
            "limit": query.limit, "offset": query.offset}


@router.get("/complaints/{case_id}", response_model=CaseOut, tags=["complaints"], summary="One complaint case")
def get_case(case_id: Id, s: ReadSessionDep, _: Handler) -> dict[str, Any]:
    return service.case_document(s, _case(s, case_id))


@router.patch("/complaints/{case_id}", response_model=CaseOut, tags=["complaints"],
              summary="Link another record: measurement period and profile (open cases)")
def change_period(case_id: Id, body: service.PeriodIn, rt: RuntimeDep, s: SessionDep, who: Handler,
                  reason: ReasonHeader = "") -> dict[str, Any]:
    case = service.change_period(s, rt.settings, who.actor, _case(s, case_id), body, reason)
    s.commit()
    return service.case_document(s, case)


@router.post("/complaints/{case_id}/decision", response_model=CaseOut, tags=["complaints"],
             summary="Record the decision and remedy (ends the evidence capture)")
def decide(case_id: Id, body: service.DecisionIn, rt: RuntimeDep, s: SessionDep, who: Handler,
           reason: ReasonHeader = "") -> dict[str, Any]:
    case = service.decide(s, rt.settings, who.actor, _case(s, case_id), body, reason)
    s.commit()
    return service.case_document(s, case)


class ReadingOut(BaseModel):
    cpe_id: int
    at: DateTime
    ok: bool
    grade: str
    error: str
    readings: list[dict[str, Any]]


@router.get("/complaints/{case_id}/readings", tags=["complaints"],
            summary="The case's evidence capture: graded CPE readings, newest first")
def readings(case_id: Id, s: ReadSessionDep, _: Handler,
             limit: Annotated[int, Query(ge=1, le=1000)] = 100,
             offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    case = _case(s, case_id)
    base = select(CaptureReading).where(CaptureReading.case_id == case.id)
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.scalars(base.order_by(CaptureReading.at.desc(), CaptureReading.id.desc()).limit(limit).offset(offset))
    items = [ReadingOut(cpe_id=r.cpe_id, at=r.at, ok=r.ok, grade=r.grade, error=r.error,
                        readings=json.loads(r.readings)) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# --- evidence packs --------------------------------------------------------------------------------------------


def _zip(pack: EvidencePack) -> Response:
    return Response(pack.content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="complaint-{pack.case_id}-evidence-v{pack.version}.zip"',
        "X-Noc-Pack-Version": str(pack.version), "X-Noc-Pack-SHA256": pack.sha256})


ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/zip": {}}}}


@router.get("/complaints/{case_id}/evidence", tags=["complaints"], response_class=Response, responses=ZIP_RESPONSE,
            summary="Download the evidence pack (the newest version, or ?version=N; the first is made on demand)")
def get_evidence(case_id: Id, rt: RuntimeDep, s: SessionDep, who: Handler,
                 version: Annotated[int | None, Query(ge=1)] = None, reason: ReasonHeader = "") -> Response:
    case = _case(s, case_id)
    pack = service.stored_pack(s, case, version) or service.generate_pack(s, rt.settings, who.actor, case, reason)
    audit(s, who.actor, "complaint.evidence.download", OBJECT, str(case.id), reason=reason,
          details={"version": pack.version, "sha256": pack.sha256})
    s.commit()
    return _zip(pack)


@router.post("/complaints/{case_id}/evidence", status_code=201, response_model=PackOut, tags=["complaints"],
             summary="Generate a new version of the evidence pack (earlier versions stay as they are)")
def new_evidence(case_id: Id, rt: RuntimeDep, s: SessionDep, who: Handler, reason: ReasonHeader = "") -> Any:
    pack = service.generate_pack(s, rt.settings, who.actor, _case(s, case_id), reason)
    s.commit()
    return {"version": pack.version, "generated_at": pack.generated_at, "sha256": pack.sha256,
            "verdict": pack.verdict}


class ReleaseIn(BaseModel):
    """The subscriber's tax number as they gave it (identifies them for traffic-data requests)."""

    model_config = ConfigDict(extra="forbid")

    tax_number: str = Field(min_length=1, max_length=32, json_schema_extra=personal("subscribers"))
    version: int | None = Field(None, ge=1, description="Default: the newest version.")


@router.post("/complaints/{case_id}/evidence/release", tags=["complaints"], response_class=Response,
             responses={**ZIP_RESPONSE, 403: {"description": "The tax number does not match the subscriber's."}},
             summary="Hand the pack to the subscriber: their tax number must match")
def release(case_id: Id, body: ReleaseIn, s: SessionDep, who: Handler, reason: ReasonHeader = "") -> Response:
    case = _case(s, case_id)
    pack = service.stored_pack(s, case, body.version)
    if pack is None:
        raise NotFound("version", f"complaint {case.id} has no evidence pack yet: generate one first")
    if not service.release_pack(s, who.actor, case, pack, body.tax_number, reason):
        s.commit()
        raise ApiError(403, "identification_failed", "the tax number does not match the subscriber's; nothing was "
                       "handed out", "tax_number")
    s.commit()
    return _zip(pack)

