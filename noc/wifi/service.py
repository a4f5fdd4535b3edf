"""SSID profiles (validated, secrets sealed), eligibility of CPEs, and campaigns as records: creation with the CPEs
they target, pause, resume, cancel. Running them is :mod:`noc.wifi.runner`'s work."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Self, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from collectors.snmp.profiles import ProfileError, SecondarySsid, SecurityName, load_profile
from noc.audit.service import record
from noc.core.crypto import SecretBox
from noc.core.errors import Conflict, InvalidInput, NotFound
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.inventory.models import Cpe, Credential, Segment, Subscriber
from noc.inventory.service import has_active_contract, subtree
from noc.polling.targets import cpes as cpe_targets
from noc.wifi.mib import Radius, Wanted
from noc.wifi.models import FINAL_STATES, Campaign, CampaignCpe, SsidProfile

SECRETS_PURPOSE = "wifi-secrets"
IN_LIST_MAX = 1000
"""Longer lists of ids or serials are matched in Python, not in SQL."""
HEX64 = re.compile(r"^[0-9A-Fa-f]{64}$")
Security = Literal["open", "wpa2-psk", "wpa2-enterprise", "wpa3-enterprise"]


class RadiusIn(BaseModel):
    """A RADIUS server of an enterprise SSID."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    host: str = Field(description="IPv4 or IPv6 address.",
                      json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
    port: int = Field(1812, ge=1, le=65535)
    secret: SecretStr = Field(description="Shared secret (1-255 printable ASCII); sealed, never shown.",
                              json_schema_extra={"pattern": "^[ -~]{1,255}$"})

    @field_validator("host")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address") from None

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not 1 <= len(text) <= 255 or not all(" " <= c <= "~" for c in text):
            raise ValueError("must be 1-255 printable ASCII characters")
        return value


class ProfileIn(BaseModel):
    """An SSID profile as the API and the CLI take it. Client isolation is always on: ``isolation`` may only be
    true. Validation errors never carry the input (it may hold secrets)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
    ssid: str = Field(description="The broadcast SSID: 1-32 octets of UTF-8.",
                      json_schema_extra={"minLength": 1, "maxLength": 32, "pattern": "^[^\\x00-\\x1f\\x7f]*$"})
    security: Security
    passphrase: SecretStr | None = Field(None, description="WPA2-PSK: 8-63 printable ASCII or 64 hex digits.",
                                         json_schema_extra={"pattern": "^([ -~]{8,63}|[0-9A-Fa-f]{64})$"})
    radius: list[RadiusIn] = Field([], max_length=2, description="WPA2/WPA3-Enterprise: one or two servers.")
    vlan: int = Field(ge=1, le=4094, description="The bridge/VLAN the device profile maps the SSID to.")
    max_clients: int = Field(32, ge=1, le=255)
    bandwidth_mbps: int = Field(ge=1, le=10_000, description="Bandwidth cap of the SSID.")
    isolation: Literal[True] = Field(True, description="Client isolation; always on.")

    @field_validator("ssid")
    @classmethod
    def _ssid(cls, value: str) -> str:
        if not 1 <= len(value.encode()) <= 32:
            raise ValueError("must be 1-32 octets of UTF-8")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("isolation", mode="before")
    @classmethod
    def _isolation(cls, value: object) -> object:
        if value is not True:
            raise ValueError("client isolation is always on and cannot be turned off")
        return value

    @model_validator(mode="after")
    def _security(self) -> Self:
        secret = self.passphrase.get_secret_value() if self.passphrase is not None else None
        if self.security == "wpa2-psk":
            if secret is None:
                raise ValueError("passphrase: required for wpa2-psk")
            printable = 8 <= len(secret) <= 63 and all(" " <= c <= "~" for c in secret)
            if not printable and not HEX64.match(secret):
                raise ValueError("passphrase: must be 8-63 printable ASCII characters or 64 hex digits")
        elif secret is not None:
            raise ValueError(f"passphrase: not used with {self.security}")
        if self.security.endswith("enterprise") and not self.radius:
            raise ValueError(f"radius: at least one server is required for {self.security}")
        if not self.security.endswith("enterprise") and self.radius:
            raise ValueError(f"radius: not used with {self.security}")
        return self

    def sealed(self, box: SecretBox) -> str:
        values = {f"radius_secret_{i}": r.secret.get_secret_value() for i, r in enumerate(self.radius)}
        if self.passphrase is not None:
            values["passphrase"] = self.passphrase.get_secret_value()
        return box.seal(values)


def profile_out(profile: SsidProfile) -> dict[str, Any]:
    """A profile as shown: everything but the secrets, which show only as set."""
    return {"id": profile.id, "name": profile.name, "ssid": profile.ssid, "security": profile.security,
            "passphrase_set": profile.security == "wpa2-psk", "radius": profile.radius, "vlan": profile.vlan,
            "max_clients": profile.max_clients, "bandwidth_mbps": profile.bandwidth_mbps, "isolation": True,
            "created_by": profile.created_by, "created_at": profile.created_at}


def create_profile(session: Session, body: ProfileIn, box: SecretBox, actor: Actor, reason: str = "") -> SsidProfile:
    """Store a profile (secrets sealed) and audit it without them."""
    if session.scalar(select(SsidProfile.id).where(SsidProfile.name == body.name)) is not None:
        raise Conflict("name", f"a profile named {body.name!r} exists")
    profile = SsidProfile(name=body.name, ssid=body.ssid, security=body.security, sealed=body.sealed(box),
                          radius=[{"host": r.host, "port": r.port} for r in body.radius], vlan=body.vlan,
                          max_clients=body.max_clients, bandwidth_mbps=body.bandwidth_mbps, isolation=True,
                          created_by=actor.name)
    session.add(profile)
    session.flush()
    record(session, actor, "wifi.profile.create", "wifi_profile", profile.name, reason=reason,
           details={"ssid": profile.ssid, "security": profile.security, "vlan": profile.vlan})
    return profile


def profile_named(session: Session, name: str) -> SsidProfile:
    profile = session.scalar(select(SsidProfile).where(SsidProfile.name == name))
    if profile is None:
        raise NotFound("profile", f"no SSID profile named {name!r}")
    return profile


def wanted(profile: SsidProfile, box: SecretBox, mapping: SecondarySsid) -> Wanted:
    """What a profile asks of a device with ``mapping`` (secrets unsealed: keep it in memory only)."""
    secrets = box.open(profile.sealed)
    radius = tuple(Radius(r["host"], r["port"], secrets[f"radius_secret_{i}"]) for i, r in enumerate(profile.radius))
    mode = mapping.security_modes[cast(SecurityName, profile.security)]
    return Wanted(profile.ssid, mode, secrets.get("passphrase", ""), radius, profile.vlan, profile.max_clients,
                  profile.bandwidth_mbps)


def targets_of(session: Session, credentials: SecretBox, settings: Settings, ids: Collection[int]) -> dict[int, Any]:
    """Poll targets (address, port, unsealed credentials, device profile) of the CPEs ``ids``, by CPE id; many ids
    are filtered here rather than in an IN list (SQLite takes at most 32,766 parameters)."""
    wanted_ids = set(ids)
    found = cpe_targets(session, credentials, timeout=settings.snmp_timeout_s, retries=settings.snmp_retries,
                        ids=wanted_ids if len(wanted_ids) <= IN_LIST_MAX else None)
    return {t.id: t for t in found if t.id in wanted_ids}


# --- eligibility ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A targeted CPE and, when it may not be touched, why."""

    cpe_id: int
    serial: str
    segment_id: int | None
    reason: str | None


def mapping_of(profile_name: str, cache: dict[str, SecondarySsid | str]) -> SecondarySsid | str:
    """A device profile's secondary SSID mapping, or why there is none (cached per campaign)."""
    if profile_name not in cache:
        try:
            found = load_profile(profile_name).secondary_ssid
        except ProfileError:
            cache[profile_name] = f"device profile {profile_name!r} cannot be loaded"
        else:
            cache[profile_name] = found or f"device profile {profile_name} carries no secondary SSID"
    return cache[profile_name]


def ineligibility(security: str, action: str, profile_name: str, consent: bool | None, contract: bool,
                  level: str | None, has_address: bool, enabled: bool,
                  cache: dict[str, SecondarySsid | str]) -> str | None:
    """Why a CPE may not get (or lose) the secondary SSID, or None when it may. Removing needs no consent."""
    mapping = mapping_of(profile_name, cache)
    if isinstance(mapping, str):
        return mapping
    if action == "enable" and security not in mapping.security_modes:
        return f"device profile {profile_name} does not support {security}"
    if not enabled or not has_address:
        return "CPE disabled or without a management address"
    if action == "enable":
        if consent is None:
            return "no subscriber"
        if not consent:
            return "the subscriber's contract does not allow a secondary SSID (ssid_consent)"
        if not contract:
            return "the subscriber has no running contract"
    if level is None:
        return "no SNMP credentials"
    if level != "authPriv":
        return f"reachable only over {level}: secrets are written only over SNMPv3 authPriv"
    return None


def candidates(session: Session, target: dict[str, Any], security: str, action: str) -> list[Candidate]:
    """The CPEs a target names, each with its reason to be skipped (None: eligible), by CPE id."""
    query = (select(Cpe.id, Cpe.serial, Cpe.segment_id, Cpe.profile, Cpe.enabled, Cpe.address,
                    Subscriber.ssid_consent, has_active_contract(date.today()), Credential.version,
                    Credential.auth_proto, Credential.priv_proto)
             .outerjoin(Subscriber, Subscriber.id == Cpe.subscriber_id)
             .outerjoin(Credential, Credential.id == Cpe.credential_id))
    wanted_serials: set[str] | None = None
    if "cpes" in target:
        wanted_serials = set(target["cpes"])
        serials = select(Cpe.serial)
        if len(wanted_serials) <= IN_LIST_MAX:
            query = query.where(Cpe.serial.in_(wanted_serials))
            serials = serials.where(Cpe.serial.in_(wanted_serials))
        found = {serial for serial in session.scalars(serials) if serial in wanted_serials}
        missing = sorted(wanted_serials - found)
        if missing:
            raise InvalidInput("target.cpes", f"no CPE with serial {', '.join(missing[:5])}"
                                              + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    elif "segment" in target:
        segment_id = session.scalar(select(Segment.id).where(Segment.name == target["segment"]))
        if segment_id is None:
            raise InvalidInput("target.segment", f"no segment named {target['segment']!r}")
        query = query.where(Cpe.segment_id.in_(subtree(session, [segment_id])))
    cache: dict[str, SecondarySsid | str] = {}
    out = []
    for (cpe_id, serial, segment_id, profile_name, enabled, address, consent, contract, version, auth,
         priv) in session.execute(query.order_by(Cpe.id)):
        if wanted_serials is not None and serial not in wanted_serials:
            continue
        level = None if version is None else "SNMPv2c" if version == "v2c" else \
            "authPriv" if priv else "authNoPriv" if auth else "noAuthNoPriv"
        reason = ineligibility(security, action, profile_name, consent, bool(contract) if consent is not None
                               else False, level, address is not None, enabled, cache)
        out.append(Candidate(cpe_id, serial, segment_id, reason))
    return out


# --- campaigns -----------------------------------------------------------------------------------------------------

class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpes: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, min_length=1,
                                                                                  max_length=100_000)
    segment: str | None = None
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("cpes", "segment", "all") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of cpes, segment or all")
        return self

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: str
    action: Literal["enable", "disable"]
    target: TargetIn
    dry_run: bool = False


def create_campaign(session: Session, body: CampaignIn, settings: Settings, actor: Actor,
                    reason: str = "") -> Campaign:
    """A campaign with every targeted CPE: eligible ones ``pending``, the others ``skipped`` with the reason."""
    profile = profile_named(session, body.profile)
    found = candidates(session, body.target.as_dict(), profile.security, body.action)
    if not found:
        raise InvalidInput("target", "names no CPE")
    if not body.dry_run:
        busy = dict(session.execute(
            select(CampaignCpe.cpe_id, CampaignCpe.campaign_id).join(Campaign, Campaign.id == CampaignCpe.campaign_id)
            .where(Campaign.state.in_(("running", "paused")), Campaign.dry_run.is_(False),
                   CampaignCpe.state.in_(("pending", "in_progress")))).all())
        taken = [c.serial for c in found if c.reason is None and c.cpe_id in busy]
        if taken:
            other = busy[next(c.cpe_id for c in found if c.serial == taken[0])]
            raise Conflict("target", f"{len(taken)} CPE(s) are still to be done in campaign {other} (e.g. "
                                     f"{', '.join(taken[:3])}): finish or cancel it first")
    campaign = Campaign(profile_id=profile.id, action=body.action, target=body.target.as_dict(),
                        dry_run=body.dry_run, state="running", concurrency=settings.wifi_concurrency,
                        segment_rate=settings.wifi_segment_rate, failure_threshold=settings.wifi_failure_threshold,
                        failure_window=settings.wifi_failure_window, forgiven=0, created_by=actor.name)
    session.add(campaign)
    session.flush()
    rows = [{"campaign_id": campaign.id, "cpe_id": c.cpe_id, "serial": c.serial, "segment_id": c.segment_id,
             "state": "pending" if c.reason is None else "skipped", "reason": c.reason or "", "step": "", "sets": 0}
            for c in found]
    for start in range(0, len(rows), 5000):
        session.execute(insert(CampaignCpe), rows[start:start + 5000])
    if all(c.reason is not None for c in found):
        campaign.state = "completed"
    record(session, actor, "wifi.campaign.create", "wifi_campaign", str(campaign.id), reason=reason,
           details={"profile": profile.name, "action": body.action, "target": campaign.target,
                    "dry_run": body.dry_run, "cpes": len(found),
                    "skipped": sum(c.reason is not None for c in found)})
    return campaign


def campaign_by_id(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("id", f"no campaign with id {campaign_id}")
    return campaign


def state_counts(session: Session, campaign_id: int) -> dict[str, int]:
    counts = dict.fromkeys(("pending", "in_progress", *FINAL_STATES), 0)
    for state, n in session.execute(select(CampaignCpe.state, func.count()).where(
            CampaignCpe.campaign_id == campaign_id).group_by(CampaignCpe.state)):
        counts[state] = n
    return counts


TRANSITIONS = {"pause": ({"running"}, "paused"), "resume": ({"paused"}, "running"),
               "cancel": ({"running", "paused"}, "cancelled")}


def change_state(session: Session, campaign: Campaign, action: str, actor: Actor, reason: str = "") -> Campaign:
    """Pause, resume or cancel; a cancelled campaign's CPEs not begun end ``skipped`` (cancelled)."""
    allowed, new = TRANSITIONS[action]
    if campaign.state not in allowed:
        raise Conflict("state", f"a {campaign.state} campaign cannot be {new}")
    campaign.state = new
    campaign.reason = reason
    if new == "running":
        campaign.forgiven = session.scalar(select(func.count()).where(
            CampaignCpe.campaign_id == campaign.id, CampaignCpe.state.in_(("failed", "rolled_back")))) or 0
    if new == "cancelled":
        session.execute(update(CampaignCpe).where(CampaignCpe.campaign_id == campaign.id,
                                                  CampaignCpe.state == "pending")
                        .values(state="skipped", reason="campaign cancelled"))
    record(session, actor, f"wifi.campaign.{action}", "wifi_campaign", str(campaign.id), reason=reason)
    return campaign

