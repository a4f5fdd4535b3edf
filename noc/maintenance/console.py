"""Works and outages in the console (``/console/maintenance``), for everyone who reads the network: the current
and coming windows (a segment's too: an agent checking a caller's area), and a window with the subscribers it
reaches (counts per segment, no subscriber) and how its notices are going. NOC engineers plan works, declare
outages, change and cancel works and resolve outages here too, through the same service as the API (same
checks, same audit, same notices)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from noc.core.db import utcnow
from noc.core.errors import InvalidInput, NocError, field_errors
from noc.core.http import Id, RuntimeDep, SessionDep
from noc.core.security import NETWORK_EDITORS, NETWORK_READERS, Principal
from noc.core.settings import Settings
from noc.inventory.models import Segment
from noc.maintenance.models import MaintenanceWindow, window_segments
from noc.maintenance.progress import affected, notice_progress, status
from noc.maintenance.service import (
    NoticePolicy,
    OutageIn,
    WindowIn,
    cancel_window,
    create_window,
    declare_outage,
    find_window,
    resolve_outage,
    update_window,
)
from noc.web.service import HEADERS, ROOT, ConsolePage, add_page, checked_form, console_user, render

TEMPLATES = Path(__file__).with_name("templates")
PATH = f"{ROOT}/maintenance"
PAST_DAYS = 14
"""Ended and cancelled windows listed this many days back."""
LISTED = 200
router = APIRouter(prefix=PATH, tags=["console"], include_in_schema=False)
Reader = Annotated[Principal, Depends(console_user(NETWORK_READERS))]
Editor = Annotated[Principal, Depends(console_user(NETWORK_EDITORS))]
Form = Annotated[dict[str, str], Depends(checked_form)]
Kind = Literal["planned", "outage"]
OPEN = ("scheduled", "in_progress", "ongoing")
M = TypeVar("M", bound=BaseModel)
add_page(ConsolePage(PATH, "Dela in izpadi", "Works and outages", NETWORK_READERS))


def _at(moment: datetime | None, tz: ZoneInfo) -> str:
    """A time as the console shows it: local, to the minute."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


@router.get("", response_class=HTMLResponse)
def windows(request: Request, who: Reader, rt: RuntimeDep, s: SessionDep, segment: str = "") -> HTMLResponse:
    now = utcnow()
    query = select(MaintenanceWindow).where(or_(MaintenanceWindow.ends_at.is_(None),
                                                MaintenanceWindow.ends_at > now - timedelta(days=PAST_DAYS)))
    wanted = segment.strip()
    if wanted:
        query = query.where(MaintenanceWindow.id.in_(
            select(window_segments.c.window_id).join(Segment).where(Segment.name.icontains(wanted, autoescape=True))))
    rows = [(w, status(w, now)) for w in s.scalars(query.order_by(MaintenanceWindow.starts_at).limit(LISTED))]
    current = [r for r in rows if r[1] in OPEN]
    past = sorted((r for r in rows if r[1] not in OPEN), key=lambda r: r[0].starts_at, reverse=True)
    return render(request, who, "maintenance_list.html.j2", (TEMPLATES,), current=current, past=past,
                  segment=wanted, days=PAST_DAYS, tz=ZoneInfo(rt.settings.timezone), at=_at,
                  editor=who.role in NETWORK_EDITORS)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, who: Editor, rt: RuntimeDep, s: SessionDep, kind: Kind = "planned") -> HTMLResponse:
    return _form(request, who, rt.settings, s, kind, {})


@router.post("/new", response_class=HTMLResponse)
def create(request: Request, who: Editor, rt: RuntimeDep, s: SessionDep, form: Form) -> Response:
    kind: Kind = "outage" if form.get("kind") == "outage" else "planned"
    try:
        if kind == "planned":
            works = _window_input(form, ZoneInfo(rt.settings.timezone))
            made = create_window(s, works, who.actor, works.reason, policy=NoticePolicy.from_settings(rt.settings))
        else:
            outage = _outage_input(form)
            made = declare_outage(s, outage, who.actor, outage.reason)
        s.commit()
    except NocError as error:
        s.rollback()
        return _form(request, who, rt.settings, s, kind, form, error)
    return RedirectResponse(f"{PATH}/{made.id}", status_code=303, headers=HEADERS)


@router.get("/{window_id}", response_class=HTMLResponse)
def window(request: Request, window_id: Id, who: Reader, rt: RuntimeDep, s: SessionDep) -> HTMLResponse:
    return _window(request, who, rt.settings, s, find_window(s, window_id))


@router.get("/{window_id}/edit", response_class=HTMLResponse)
def edit(request: Request, window_id: Id, who: Editor, rt: RuntimeDep, s: SessionDep) -> HTMLResponse:
    found, tz = find_window(s, window_id), ZoneInfo(rt.settings.timezone)
    form = {k: getattr(found, k) for k in ("title", "reason", "impact", "description_sl", "description_en")}
    form |= {"segments": ", ".join(seg.name for seg in found.segments), "emergency": "yes" if found.emergency else "",
             **{k: _at(getattr(found, k), tz).replace(" ", "T") for k in ("starts_at", "ends_at")}}
    return _form(request, who, rt.settings, s, "planned", form, editing=found)


@router.post("/{window_id}/edit", response_class=HTMLResponse)
def change(request: Request, window_id: Id, who: Editor, rt: RuntimeDep, s: SessionDep, form: Form) -> Response:
    """Change planned works: a change subscribers see is sent to them as an update (the API's ``PUT``)."""
    found = find_window(s, window_id)
    try:
        data = _window_input(form, ZoneInfo(rt.settings.timezone))
        update_window(s, found, data, who.actor, data.reason, policy=NoticePolicy.from_settings(rt.settings))
        s.commit()
    except NocError as error:
        s.rollback()
        return _form(request, who, rt.settings, s, "planned", form, error, editing=find_window(s, window_id))
    return RedirectResponse(f"{PATH}/{window_id}", status_code=303, headers=HEADERS)


@router.post("/{window_id}/end", response_class=HTMLResponse)
def end(request: Request, window_id: Id, who: Editor, rt: RuntimeDep, s: SessionDep, form: Form) -> Response:
    """Cancel planned works, or resolve an outage (whichever the window is)."""
    found = find_window(s, window_id)
    try:
        (cancel_window if found.kind == "planned" else resolve_outage)(s, found, who.actor, form.get("reason", ""))
        s.commit()
    except NocError as error:
        s.rollback()
        return _window(request, who, rt.settings, s, find_window(s, window_id), error)
    return RedirectResponse(f"{PATH}/{window_id}", status_code=303, headers=HEADERS)


def _window(request: Request, who: Principal, settings: Settings, s: Session, found: MaintenanceWindow,
            error: NocError | None = None) -> HTMLResponse:
    reach, _ = affected(s, found, NoticePolicy.from_settings(settings).today())
    state = status(found, utcnow())
    return render(request, who, "maintenance_window.html.j2", (TEMPLATES,), status=error.status if error else 200,
                  w=found, state=state, reach=reach, notices=notice_progress(s, found.id),
                  tz=ZoneInfo(settings.timezone), at=_at, error=error,
                  can_end=who.role in NETWORK_EDITORS and state in OPEN,
                  can_edit=who.role in NETWORK_EDITORS and state in ("scheduled", "in_progress"))


def _form(request: Request, who: Principal, settings: Settings, s: Session, kind: Kind, form: dict[str, str],
          error: NocError | None = None, editing: MaintenanceWindow | None = None) -> HTMLResponse:
    """The form that plans works or declares an outage, or (``editing``) changes planned works."""
    names = list(s.scalars(select(Segment.name).order_by(Segment.name)))
    return render(request, who, "maintenance_new.html.j2", (TEMPLATES,), status=error.status if error else 200,
                  kind=kind, form=form, error=error, names=names, lead_h=settings.maintenance_lead_time_h,
                  timezone=settings.timezone, editing=editing)


def _outage_input(form: dict[str, str]) -> OutageIn:
    """The form as the API's input of an outage: segments separated by commas."""
    data: dict[str, Any] = {k: form.get(k, "") for k in ("title", "reason", "impact", "description_sl",
                                                          "description_en")}
    data["segments"] = [name.strip() for name in form.get("segments", "").split(",") if name.strip()]
    return _validated(OutageIn, data)


def _window_input(form: dict[str, str], tz: ZoneInfo) -> WindowIn:
    """The form as the API's input of planned works: as an outage's, with local times (``datetime-local``)."""
    data = _outage_input(form).model_dump()
    for field in ("starts_at", "ends_at"):
        try:
            data[field] = datetime.fromisoformat(form.get(field, "")).replace(tzinfo=tz)
        except ValueError:
            raise InvalidInput(field, "a date and time is required") from None
    data["emergency"] = form.get("emergency") == "yes"
    return _validated(WindowIn, data)


def _validated(model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``; its first problem as :class:`InvalidInput` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        name, message = field_errors(invalid)[0]
        raise InvalidInput(name, message) from None
