"""Drift: CPEs whose secondary SSID differs from what their last campaign left there (a factory reset, a replaced
gateway), found by reading them again; they can be re-provisioned by a new campaign."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from collectors.snmp.client import SnmpClient
from collectors.snmp.errors import SnmpError
from collectors.snmp.profiles import SecondarySsid
from noc.core.crypto import SecretBox
from noc.core.db import Database, utcnow
from noc.core.errors import InvalidInput
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.wifi import mib
from noc.wifi.models import Campaign, CampaignCpe, Drift, SsidProfile
from noc.wifi.service import CampaignIn, TargetIn, create_campaign, mapping_of, profile_named, targets_of, wanted

log = logging.getLogger(__name__)


def last_changes(session: Session) -> list[tuple[int, str, int, int, str]]:
    """Per CPE, its last campaign that left it ``done`` (not a dry run): (cpe id, serial, campaign id, profile id,
    action)."""
    latest = (select(CampaignCpe.cpe_id, func.max(CampaignCpe.campaign_id).label("campaign_id"))
              .join(Campaign, Campaign.id == CampaignCpe.campaign_id)
              .where(CampaignCpe.state == "done", Campaign.dry_run.is_(False))
              .group_by(CampaignCpe.cpe_id).subquery())
    query = (select(CampaignCpe.cpe_id, CampaignCpe.serial, Campaign.id, Campaign.profile_id, Campaign.action)
             .join(latest, (latest.c.cpe_id == CampaignCpe.cpe_id) & (latest.c.campaign_id == CampaignCpe.campaign_id))
             .join(Campaign, Campaign.id == CampaignCpe.campaign_id).order_by(CampaignCpe.cpe_id))
    return [(a, b, c, d, e) for a, b, c, d, e in session.execute(query)]


async def _check(db: Database, settings: Settings, credentials: SecretBox, secrets: SecretBox) -> dict[str, int]:
    with db.read_session() as s:
        known = last_changes(s)
        profiles = {p.id: p for p in s.scalars(select(SsidProfile))}
        targets = targets_of(s, credentials, settings, [k[0] for k in known])
    cache: dict[str, SecondarySsid | str] = {}
    client = SnmpClient(max_concurrency=settings.wifi_concurrency)
    gate = asyncio.Semaphore(settings.wifi_concurrency)
    found: dict[int, Drift] = {}
    report = {"checked": 0, "drifted": 0, "unreachable": 0}

    async def one(cpe_id: int, serial: str, campaign_id: int, profile_id: int, action: str) -> None:
        target = targets.get(cpe_id)
        mapping = mapping_of(target.profile, cache) if target else "gone"
        if target is None or isinstance(mapping, str):
            return
        want = mib.targets(mapping, wanted(profiles[profile_id], secrets, mapping) if action == "enable" else None)
        async with gate:
            try:
                values = await client.get(target.target, mib.read_oids(mapping))
            except SnmpError:
                report["unreachable"] += 1
                return
        report["checked"] += 1
        differ = mib.changes(mapping, mib.secondary_rows(mapping, values), want)
        if differ:
            found[cpe_id] = Drift(cpe_id=cpe_id, serial=serial, campaign_id=campaign_id, profile_id=profile_id,
                                  found_at=utcnow(), differences=sorted({f"{c.name} (row {c.row})" for c in differ}))

    try:
        await asyncio.gather(*(one(*k) for k in known))
    finally:
        await client.close()
    with db.session() as s:
        checked = [k[0] for k in known if k[0] in targets]
        s.execute(delete(Drift).where(Drift.cpe_id.in_(checked)))
        s.add_all(found.values())
    report["drifted"] = len(found)
    return report


def check_drift(db: Database, settings: Settings, credentials: SecretBox, secrets: SecretBox) -> dict[str, int]:
    """Read every provisioned CPE again and store which ones drifted; the counts (logged once)."""
    report = asyncio.run(_check(db, settings, credentials, secrets))
    log.info("wifi drift check: %(checked)d CPEs read, %(drifted)d drifted, %(unreachable)d unreachable", report)
    return report


def drifted(session: Session) -> list[dict[str, Any]]:
    """The drifted CPEs as the API lists them."""
    rows = session.execute(select(Drift, SsidProfile.name).join(SsidProfile, SsidProfile.id == Drift.profile_id)
                           .order_by(Drift.serial))
    return [{"serial": d.serial, "profile": name, "campaign": d.campaign_id, "found_at": d.found_at,
             "differences": d.differences} for d, name in rows]


def reprovision(session: Session, profile_name: str, settings: Settings, actor: Actor, reason: str = "") -> Campaign:
    """A campaign enabling ``profile_name`` again on its drifted CPEs."""
    profile = profile_named(session, profile_name)
    serials = list(session.scalars(select(Drift.serial).where(Drift.profile_id == profile.id)))
    if not serials:
        raise InvalidInput("profile", f"no drifted CPE of profile {profile_name!r}")
    body = CampaignIn(profile=profile_name, action="enable", target=TargetIn(cpes=serials))
    return create_campaign(session, body, settings, actor, reason or "re-provisioning drifted CPEs")
