"""The demo's community hotspot: an SSID profile (WPA2-PSK, its passphrase generated at seeding and never shown)
and a dry run on ``sg-ljubljana-2``, which the worker runs against the simulated gateways over SNMPv3 authPriv:
it lists what would change on each eligible gateway, and which are skipped and why (no consent, v2c only)."""

from __future__ import annotations

import secrets

from pydantic import SecretStr
from sqlalchemy import select

from noc.core.capability import DemoContext, DemoPart
from noc.core.security import Actor
from noc.wifi.models import Campaign, SsidProfile
from noc.wifi.service import SECRETS_PURPOSE, CampaignIn, ProfileIn, TargetIn, create_campaign, create_profile

PROFILE = "community-hotspot"
SEGMENT = "sg-ljubljana-2"
ACTOR = Actor(name="demo", role="noc_engineer")


def seed(ctx: DemoContext) -> None:
    """Create the profile and the dry run once (a restarted demo keeps them)."""
    rt = ctx.runtime
    with rt.db.session() as s:
        if s.scalar(select(SsidProfile.id).where(SsidProfile.name == PROFILE)) is None:
            body = ProfileIn(name=PROFILE, ssid="Kabel-Hotspot", security="wpa2-psk",
                             passphrase=SecretStr(secrets.token_urlsafe(18)), vlan=300, max_clients=16,
                             bandwidth_mbps=20)
            create_profile(s, body, rt.secret_box(SECRETS_PURPOSE), ACTOR, "demo")
            s.flush()
        campaign_id = s.scalar(select(Campaign.id).order_by(Campaign.id).limit(1))
        if campaign_id is None:
            campaign_id = create_campaign(s, CampaignIn(profile=PROFILE, action="enable", dry_run=True,
                                                        target=TargetIn(segment=SEGMENT)),
                                          rt.settings, ACTOR, "demo").id
    ctx.notes.append(f"Wi-Fi: a dry run of profile {PROFILE} on {SEGMENT}: GET /api/v1/wifi/campaigns/{campaign_id}")


DEMO = DemoPart(seed=seed)
