"""Wi-Fi's personal data: what campaigns did on the subscriber's gateway (the secondary SSID's rows found there are
sealed; the subscriber's own SSID is only fingerprinted, never stored)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from noc.core.privacy import DataKind, PersonalData, affected, records
from noc.inventory.models import Cpe
from noc.wifi.models import FINAL_STATES, Campaign, CampaignCpe


class WifiData(PersonalData):
    """Campaign steps on the subscriber's CPEs."""

    kinds = (
        DataKind("wifi_campaign_cpes", "Per gateway of the subscriber: which secondary-SSID campaign, its state and "
                 "reason, the objects written, a fingerprint of the subscriber's own SSID settings (not the "
                 "settings) and the secondary rows found before (sealed, for rollback)",
                 "Running the community hotspot the contract allows without touching the subscriber's own Wi-Fi",
                 "Contract (art. 6(1)(b)) with the subscriber's consent to the secondary SSID", "wifi_campaign_cpes",
                 "With the campaign; erasure blanks the fingerprint and the sealed rows of finished steps"),
    )

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every campaign step on the subscriber's CPEs (without the sealed rows)."""
        cpes = select(Cpe.id).where(Cpe.subscriber_id == subscriber_id)
        return {"wifi_campaign_cpes": records(session, select(
            CampaignCpe.campaign_id, Campaign.action, CampaignCpe.serial, CampaignCpe.state, CampaignCpe.reason,
            CampaignCpe.step, CampaignCpe.sets, CampaignCpe.changes, CampaignCpe.updated_at)
            .join(Campaign, Campaign.id == CampaignCpe.campaign_id)
            .where(CampaignCpe.cpe_id.in_(cpes)).order_by(CampaignCpe.id))}

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Blank the fingerprint and the sealed rows of the subscriber's CPEs' finished campaign steps (a step still
        running needs them to roll back)."""
        cpes = select(Cpe.id).where(Cpe.subscriber_id == subscriber_id)
        return {"wifi_campaign_cpes": affected(session, update(CampaignCpe).where(
            CampaignCpe.cpe_id.in_(cpes), CampaignCpe.state.in_(FINAL_STATES)).values(fingerprint=None, previous=None))}


PERSONAL_DATA = WifiData()
