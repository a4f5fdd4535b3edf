"""Tables of the Wi-Fi capability: SSID profiles (secrets sealed), campaigns, and every CPE's state in each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow

SECURITIES = ("open", "wpa2-psk", "wpa2-enterprise", "wpa3-enterprise")
ACTIONS = ("enable", "disable")
CAMPAIGN_STATES = ("running", "paused", "cancelled", "completed")
CPE_STATES = ("pending", "in_progress", "done", "rolled_back", "skipped", "failed")
FINAL_STATES = ("done", "rolled_back", "skipped", "failed")


class SsidProfile(Base):
    """A secondary SSID as the operator defines it; passphrase and RADIUS secrets only in ``sealed``."""

    __tablename__ = "wifi_profiles"
    __table_args__ = (one_of("security", SECURITIES, "security"),
                      CheckConstraint("isolation", name="isolation_always_on"),
                      CheckConstraint("vlan BETWEEN 1 AND 4094", name="vlan"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    ssid: Mapped[str] = mapped_column(String(32))
    security: Mapped[str] = mapped_column(String(16))
    radius: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """RADIUS servers without their secrets: [{"host", "port"}]."""
    sealed: Mapped[str] = mapped_column(Text)
    """{"passphrase"} or {"radius_secret_0", ...}, sealed with the ``wifi-secrets`` purpose."""
    vlan: Mapped[int] = mapped_column(Integer)
    max_clients: Mapped[int] = mapped_column(Integer)
    bandwidth_mbps: Mapped[int] = mapped_column(Integer)
    isolation: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    """Provisioning (or removal) of a profile's secondary SSID on a set of CPEs."""

    __tablename__ = "wifi_campaigns"
    __table_args__ = (one_of("action", ACTIONS, "action"), one_of("state", CAMPAIGN_STATES, "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("wifi_profiles.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="running")
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it paused itself, or what the operator said when pausing or cancelling."""
    concurrency: Mapped[int] = mapped_column(Integer)
    segment_rate: Mapped[float] = mapped_column(Float)
    """CPEs started per second on one access segment."""
    failure_threshold: Mapped[float] = mapped_column(Float)
    failure_window: Mapped[int] = mapped_column(Integer)
    forgiven: Mapped[int] = mapped_column(Integer, default=0)
    """Failed or rolled-back CPEs an operator accepted by resuming: the threshold judges the CPEs after them."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """A runner holds the campaign until then (renewed as it goes); an expired lease lets another take over."""
    holder: Mapped[str | None] = mapped_column(String(36))
    """The runner holding the lease (a runner that finds another one here stops)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignCpe(Base):
    """One CPE in one campaign: its state, why, and what was there before (secrets of it sealed)."""

    __tablename__ = "wifi_campaign_cpes"
    __table_args__ = (UniqueConstraint("campaign_id", "cpe_id"), one_of("state", CPE_STATES, "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("wifi_campaigns.id", ondelete="CASCADE"), index=True)
    cpe_id: Mapped[int] = mapped_column(ForeignKey("cpes.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64))
    segment_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str] = mapped_column(String(12), default="")
    """The last step begun: read, set, verify, rollback."""
    sets: Mapped[int] = mapped_column(Integer, default=0)
    """SET requests sent to this CPE in this campaign (recorded before each is sent)."""
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(Text)
    """The secondary rows before the change, sealed (they hold secrets)."""
    changes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """What changed (or, in a dry run, would change): row, object, OID, before, after; secrets as presence."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Drift(Base):
    """A CPE whose secondary SSID no longer is what its last campaign left (factory reset, replaced gateway)."""

    __tablename__ = "wifi_drift"

    cpe_id: Mapped[int] = mapped_column(ForeignKey("cpes.id", ondelete="CASCADE"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("wifi_campaigns.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("wifi_profiles.id"), index=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    differences: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Objects that differ (names and rows, never values)."""
