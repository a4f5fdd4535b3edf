"""The complaint handlers' console (``/console/complaints``): cases due soon, a case with its record (verdicts,
causes, the chart, the measurements) and its evidence packs to download. It reads through the same service as the
API; a download is audited as the API's is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from noc.audit.service import record as audit
from noc.complaints import service
from noc.complaints.api import HANDLERS
from noc.complaints.chart import speeds_svg
from noc.complaints.models import OBJECT
from noc.core.errors import NotFound
from noc.core.http import Id, RuntimeDep, SessionDep
from noc.core.security import Principal
from noc.inventory.models import Subscriber
from noc.web.service import ROOT, ConsolePage, add_page, console_user, language, render

TEMPLATES = Path(__file__).with_name("templates")
PATH = f"{ROOT}/complaints"
SHOWN = 300
"""Measurements listed on a case's page (the chart shows all; the pack holds all)."""
router = APIRouter(prefix=PATH, tags=["console"], include_in_schema=False)
Handler = Annotated[Principal, Depends(console_user(HANDLERS))]
add_page(ConsolePage(PATH, "Pritožbe", "Complaints", HANDLERS))


@router.get("", response_class=HTMLResponse)
def cases(request: Request, who: Handler, rt: RuntimeDep, s: SessionDep, due_within: int = 14,
          subscriber: str = "") -> HTMLResponse:
    due, _ = service.due_cases(s, rt.settings, max(0, min(due_within, 365)), "open", None, 200, 0)
    found = service.due_cases(s, rt.settings, None, None, subscriber.strip(), 50, 0)[0] if subscriber.strip() else []
    ids = {c.subscriber_id for c in due}
    numbers = {i: n for i, n in s.execute(select(Subscriber.id, Subscriber.number).where(Subscriber.id.in_(ids)))}
    return render(request, who, "complaints_list.html.j2", (TEMPLATES,), due=due, found=found, numbers=numbers,
                  today=service.today(rt.settings), due_within=due_within, subscriber=subscriber)


@router.get("/{case_id}", response_class=HTMLResponse)
def case(request: Request, case_id: Id, who: Handler, rt: RuntimeDep, s: SessionDep) -> HTMLResponse:
    found = service.get_case(s, case_id)
    document = service.case_document(s, found)
    record = service.case_record(s, rt.settings, found)
    data = record.document()
    labels = {"sl": {"normal": "običajna", "minimum": "najmanjša"}, "en": {"normal": "normal", "minimum": "minimum"}}
    lang = language(request)
    titles = {"download": ("Prenos k naročniku", "Download"), "upload": ("Prenos od naročnika", "Upload")}
    charts = {d: Markup(speeds_svg(d, data["measurements"], data["package"][d],
                                   {**labels[lang], "title": titles[d][lang == "en"]}, f"chart-{d}",
                                   ZoneInfo(rt.settings.timezone)))
              for d in ("download", "upload")}
    return render(request, who, "complaints_case.html.j2", (TEMPLATES,), case=document, record=data, charts=charts,
                  shown=data["measurements"][:SHOWN], more=max(0, len(data["measurements"]) - SHOWN))


@router.get("/{case_id}/evidence/{version}")
def evidence(case_id: Id, version: Id, who: Handler, s: SessionDep) -> Response:
    found = service.get_case(s, case_id)
    pack = service.stored_pack(s, found, version)
    if pack is None:
        raise NotFound("version", f"complaint {case_id} has no evidence pack version {version}")
    audit(s, who.actor, "complaint.evidence.download", OBJECT, str(case_id), reason="console",
          details={"version": pack.version, "sha256": pack.sha256})
    s.commit()
    return Response(pack.content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="complaint-{case_id}-evidence-v{version}.zip"'})
