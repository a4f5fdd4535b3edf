"""Works and outages in the console (``/console/maintenance``), for everyone who reads the network: the current
and coming windows (a segment's too: an agent checking a caller's area), and a window with the subscribers it
reaches (counts per segment, no subscriber) and how its notices are going. Planning stays in the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select

from noc.core.db import utcnow
from noc.core.errors import NotFound
from noc.core.http import Id, RuntimeDep, SessionDep
from noc.core.security import NETWORK_READERS, Principal
from noc.inventory.models import Segment
from noc.maintenance.models import MaintenanceWindow, window_segments
from noc.maintenance.progress import affected, notice_progress, status
from noc.maintenance.service import NoticePolicy
from noc.web.service import ROOT, ConsolePage, add_page, console_user, render

TEMPLATES = Path(__file__).with_name("templates")
PATH = f"{ROOT}/maintenance"
PAST_DAYS = 14
"""Ended and cancelled windows listed this many days back."""
LISTED = 200
router = APIRouter(prefix=PATH, tags=["console"], include_in_schema=False)
Reader = Annotated[Principal, Depends(console_user(NETWORK_READERS))]
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
    current = [r for r in rows if r[1] in ("scheduled", "in_progress", "ongoing")]
    past = sorted((r for r in rows if r[1] not in ("scheduled", "in_progress", "ongoing")),
                  key=lambda r: r[0].starts_at, reverse=True)
    return render(request, who, "maintenance_list.html.j2", (TEMPLATES,), current=current, past=past,
                  segment=wanted, days=PAST_DAYS, tz=ZoneInfo(rt.settings.timezone), at=_at)


@router.get("/{window_id}", response_class=HTMLResponse)
def window(request: Request, window_id: Id, who: Reader, rt: RuntimeDep, s: SessionDep) -> HTMLResponse:
    found = s.get(MaintenanceWindow, window_id)
    if found is None:
        raise NotFound("window_id", f"no maintenance window with id {window_id}")
    reach, _ = affected(s, found, NoticePolicy.from_settings(rt.settings).today())
    return render(request, who, "maintenance_window.html.j2", (TEMPLATES,), w=found,
                  state=status(found, utcnow()), reach=reach, notices=notice_progress(s, window_id),
                  tz=ZoneInfo(rt.settings.timezone), at=_at)
