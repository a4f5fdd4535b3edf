"""Wi-Fi endpoints: SSID profiles, campaigns (create, look at, pause, resume, cancel) and drift."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from noc.core.http import ERROR_RESPONSES, Id, Paging, ReasonHeader, RuntimeDep, SessionDep, require
from noc.core.security import NETWORK_EDITORS, Principal
from noc.wifi.drift import drifted, reprovision
from noc.wifi.models import Campaign, CampaignCpe, SsidProfile
from noc.wifi.service import (
    SECRETS_PURPOSE,
    CampaignIn,
    ProfileIn,
    campaign_by_id,
    candidates,
    change_state,
    create_campaign,
    create_profile,
    profile_named,
    profile_out,
    state_counts,
)

router = APIRouter(prefix="/wifi", tags=["wifi"], responses=ERROR_RESPONSES)
Engineer = Annotated[Principal, Depends(require(NETWORK_EDITORS))]


class RadiusOut(BaseModel):
    host: str
    port: int


class ProfileOut(BaseModel):
    """A profile; its passphrase and RADIUS secrets are never shown."""

    id: int
    name: str
    ssid: str
    security: str
    passphrase_set: bool
    radius: list[RadiusOut]
    vlan: int
    max_clients: int
    bandwidth_mbps: int
    isolation: bool
    created_by: str
    created_at: datetime


class CpeOut(BaseModel):
    serial: str
    state: str
    reason: str
    step: str
    sets: int
    changes: list[dict[str, Any]] | None


class CampaignOut(BaseModel):
    id: int
    profile: str
    action: str
    target: dict[str, Any]
    dry_run: bool
    state: str
    reason: str
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    total: int
    cpes: list[CpeOut]


class CpeFilter(Paging):
    state: Literal["pending", "in_progress", "done", "rolled_back", "skipped", "failed"] | None = None


def campaign_out(s: SessionDep, campaign: Campaign, query: CpeFilter) -> dict[str, Any]:
    """A campaign with its per-state counts and one page of its CPEs."""
    rows = select(CampaignCpe).where(CampaignCpe.campaign_id == campaign.id)
    if query.state is not None:
        rows = rows.where(CampaignCpe.state == query.state)
    total = s.scalar(select(func.count()).select_from(rows.subquery())) or 0
    page = s.scalars(rows.order_by(CampaignCpe.id).limit(query.limit).offset(query.offset)).all()
    profile = s.get(SsidProfile, campaign.profile_id)
    return {"id": campaign.id, "profile": profile.name if profile else "", "action": campaign.action,
            "target": campaign.target, "dry_run": campaign.dry_run, "state": campaign.state,
            "reason": campaign.reason, "created_by": campaign.created_by, "created_at": campaign.created_at,
            "finished_at": campaign.finished_at, "counts": state_counts(s, campaign.id), "total": total,
            "cpes": [{"serial": r.serial, "state": r.state, "reason": r.reason, "step": r.step, "sets": r.sets,
                      "changes": r.changes} for r in page]}


@router.get("/profiles", response_model=list[ProfileOut], summary="SSID profiles")
def list_profiles(s: SessionDep, _: Engineer) -> list[dict[str, Any]]:
    return [profile_out(p) for p in s.scalars(select(SsidProfile).order_by(SsidProfile.name))]


@router.post("/profiles", response_model=ProfileOut, status_code=201,
             summary="Define an SSID profile (passphrase and RADIUS secrets sealed; isolation always on)")
def post_profile(body: ProfileIn, s: SessionDep, rt: RuntimeDep, who: Engineer,
                 reason: ReasonHeader = "") -> dict[str, Any]:
    profile = create_profile(s, body, rt.secret_box(SECRETS_PURPOSE), who.actor, reason)
    s.commit()
    return profile_out(profile)


@router.get("/profiles/{name}", response_model=ProfileOut, summary="One SSID profile")
def get_profile(name: str, s: SessionDep, _: Engineer) -> dict[str, Any]:
    return profile_out(profile_named(s, name))


class EligibilityFilter(Paging):
    action: Literal["enable", "disable"] = "enable"
    segment: str | None = None


@router.get("/profiles/{name}/eligibility",
            summary="Which CPEs (all, or a segment's) could get the profile's SSID: counts and the ineligible ones "
                    "with the reason")
def get_eligibility(name: str, s: SessionDep, _: Engineer,
                    query: Annotated[EligibilityFilter, Query()]) -> dict[str, Any]:
    profile = profile_named(s, name)
    target = {"segment": query.segment} if query.segment else {"all": True}
    found = candidates(s, target, profile.security, query.action)
    ineligible = [{"serial": c.serial, "reason": c.reason} for c in found if c.reason is not None]
    return {"eligible": len(found) - len(ineligible), "ineligible": len(ineligible),
            "items": ineligible[query.offset:query.offset + query.limit], "limit": query.limit,
            "offset": query.offset}


@router.get("/campaigns", summary="Campaigns, newest first, with their counts per CPE state")
def list_campaigns(s: SessionDep, _: Engineer, query: Annotated[Paging, Query()]) -> dict[str, Any]:
    total = s.scalar(select(func.count()).select_from(Campaign)) or 0
    page = s.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(query.limit).offset(query.offset)).all()
    names = dict(s.execute(select(SsidProfile.id, SsidProfile.name)).all())
    return {"items": [{"id": c.id, "profile": names.get(c.profile_id, ""), "action": c.action, "target": c.target,
                       "dry_run": c.dry_run, "state": c.state, "reason": c.reason, "created_at": c.created_at,
                       "counts": state_counts(s, c.id)} for c in page],
            "total": total, "limit": query.limit, "offset": query.offset}


@router.post("/campaigns", response_model=CampaignOut, status_code=201,
             summary="Start a campaign (or a dry run): the targeted CPEs, ineligible ones skipped with the reason")
def post_campaign(body: CampaignIn, s: SessionDep, rt: RuntimeDep, who: Engineer,
                  reason: ReasonHeader = "") -> dict[str, Any]:
    campaign = create_campaign(s, body, rt.settings, who.actor, reason)
    s.commit()
    return campaign_out(s, campaign, CpeFilter())


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut,
            summary="A campaign: counts per state and a page of its CPEs (state, reason, changes)")
def get_campaign(campaign_id: Id, s: SessionDep, _: Engineer, query: Annotated[CpeFilter, Query()]) -> dict[str, Any]:
    return campaign_out(s, campaign_by_id(s, campaign_id), query)


def _transition(action: str) -> Any:
    def handler(campaign_id: Id, s: SessionDep, who: Engineer, reason: ReasonHeader = "") -> dict[str, Any]:
        campaign = change_state(s, campaign_by_id(s, campaign_id), action, who.actor, reason)
        s.commit()
        return campaign_out(s, campaign, CpeFilter())
    handler.__name__ = f"post_{action}"
    return handler


for _action in ("pause", "resume", "cancel"):
    router.post(f"/campaigns/{{campaign_id}}/{_action}", response_model=CampaignOut,
                summary=f"{_action.capitalize()} a campaign")(_transition(_action))


@router.get("/drift", summary="CPEs whose secondary SSID no longer matches their campaign's profile")
def get_drift(s: SessionDep, _: Engineer) -> list[dict[str, Any]]:
    return drifted(s)


@router.post("/drift/reprovision", response_model=CampaignOut, status_code=201,
             summary="A campaign re-provisioning the drifted CPEs of one profile")
def post_reprovision(profile: Annotated[str, Query()], s: SessionDep, rt: RuntimeDep, who: Engineer,
                     reason: ReasonHeader = "") -> dict[str, Any]:
    campaign = reprovision(s, profile, rt.settings, who.actor, reason)
    s.commit()
    return campaign_out(s, campaign, CpeFilter())

