"""Input shapes of inventory objects, shared by the API and the importer.

Objects refer to each other by natural key (a package's ``code``, a subscriber's ``number``, a
segment's or device's ``name``), so the same document works in a YAML file, a CSV row and a request.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from collectors.snmp.auth import AuthProto, PrivProto, normalise_auth_protocol, normalise_priv_protocol
from noc.core.inputs import Date, not_bool
from noc.core.privacy import personal
from noc.inventory.enums import (
    DEFAULT_COUNTER,
    Counter,
    CredentialVersion,
    DeviceKind,
    Direction,
    Language,
    NoticeCategory,
    SegmentKind,
)

NORMAL_SHARE = 0.8
"""Default normally available speed as a share of the advertised speed."""
MINIMUM_SHARE = 0.5
"""Default minimum speed as a share of the advertised speed."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)]
PollerGroup = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                               pattern=r"^[a-z0-9][a-z0-9_-]*$"),
                        Field(description="Poller group whose workers poll it when polling is scaled out "
                                          "(a Celery queue; lower-case letters, digits, _ and -).")]
Mbps = Annotated[float,
                 Field(ge=0.001, le=1_000_000, description="Mbit/s, from 0.001 (1 kbit/s)."), BeforeValidator(not_bool)]
AdvertisedMbps = Annotated[float,
                           Field(ge=0.01, le=1_000_000, description="Mbit/s, from 0.01 (10 kbit/s): its default "
                                 "shares stay at or above 0.001."), BeforeValidator(not_bool)]
Secret = Annotated[SecretStr, StringConstraints(min_length=1, max_length=256)]
Key = Annotated[SecretStr, StringConstraints(min_length=8, max_length=256)]
"""An SNMPv3 authentication or privacy passphrase: at least 8 characters (RFC 3414)."""
MAX_MEMBERS = 10_000
"""Most interfaces one segment counts."""
Port = Annotated[int, Field(ge=1, le=65535), BeforeValidator(not_bool)]
LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
H16 = "[0-9A-Fa-f]{1,4}"
IPV6 = "|".join([f"({H16}:){{7}}{H16}", f"({H16}:){{1,7}}:", f"({H16}:){{1,6}}:{H16}"] + [
    f"({H16}:){{1,{n}}}(:{H16}){{1,{7 - n}}}" for n in range(1, 6)] + [f":((:{H16}){{1,7}}|:)"])
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")
HOST_PATTERN = rf"^({LABEL}(\.{LABEL})*|{IPV6})$"
"""An IPv4 address or DNS host name (the same labels), or an IPv6 address: what :func:`check_host` accepts, as
the OpenAPI document states it (the validator gives the readable message)."""
MAC = re.compile(r"^[0-9a-f]{12}$")


class InventoryInput(BaseModel):
    """Base of every input shape: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def if_text(normalise: Callable[[str | None], Any]) -> Callable[[Any], Any]:
    """``normalise`` applied to strings only; anything else is left for the field's type to refuse."""
    return lambda value: normalise(value) if value is None or isinstance(value, str) else value


def check_host(value: str) -> str:
    """Accept an IPv4/IPv6 address or a DNS host name."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if HOSTNAME.match(value):
            return value.lower()
    raise ValueError("must be an IP address or a host name")


def slovenian_tax_number_ok(value: str) -> bool:
    """Check a Slovenian tax number: 8 digits, no leading zero, mod-11 check digit."""
    if not re.fullmatch(r"[1-9][0-9]{7}", value):
        return False
    check = 11 - sum((8 - i) * int(d) for i, d in enumerate(value[:7])) % 11
    if check == 11:
        return False
    return int(value[7]) == (0 if check == 10 else check)


class CredentialIn(InventoryInput):
    """SNMP credentials: a v2c community, or a v3 user with authentication (and privacy) keys."""

    name: Name
    version: CredentialVersion
    community: Secret | None = None
    v3_user: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    auth_proto: Annotated[AuthProto | None, BeforeValidator(if_text(normalise_auth_protocol))] = Field(
        None, description="MD5, SHA, SHA224, SHA256, SHA384 or SHA512, as operators write them (sha-256, SHA1...).")
    auth_key: Key | None = None
    priv_proto: Annotated[PrivProto | None, BeforeValidator(if_text(normalise_priv_protocol))] = Field(
        None, description="DES, AES, AES192, AES256 (net-snmp's key extension) or AES192C, AES256C (Cisco's).")
    priv_key: Key | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.version == "v2c":
            if not self.community or not self.community.get_secret_value():
                raise ValueError("community: required for v2c")
            if self.v3_user or self.auth_key or self.priv_key:
                raise ValueError("v3_user: v3 fields given for a v2c credential")
            return self
        if self.community:
            raise ValueError("community: not used with v3")
        if not self.v3_user:
            raise ValueError("v3_user: required for v3")
        for key, proto in (("auth_key", "auth_proto"), ("priv_key", "priv_proto")):
            secret: SecretStr | None = getattr(self, key)
            if secret is not None and len(secret.get_secret_value()) < 8:
                raise ValueError(f"{key}: must be at least 8 characters (RFC 3414)")
            if secret is not None and getattr(self, proto) is None:
                raise ValueError(f"{proto}: required when {key} is given")
            if secret is None and getattr(self, proto) is not None:
                raise ValueError(f"{key}: required when {proto} is given")
        if self.priv_key is not None and self.auth_key is None:
            raise ValueError("auth_key: privacy needs authentication (authPriv)")
        return self

    @property
    def security_level(self) -> str:
        """``v2c``, or the v3 user's level: ``noAuthNoPriv`` (nothing protected), ``authNoPriv`` or ``authPriv``."""
        if self.version == "v2c":
            return "v2c"
        return "authPriv" if self.priv_key else "authNoPriv" if self.auth_key else "noAuthNoPriv"

    def secrets(self) -> dict[str, str]:
        """The secret values, for sealing."""
        fields = ("community", "auth_key", "priv_key")
        return {f: getattr(self, f).get_secret_value() for f in fields if getattr(self, f) is not None}


class PackageIn(InventoryInput):
    """A package; normally available and minimum speeds default to 80 % and 50 % of advertised."""

    code: Name
    name: Text
    download_mbps: AdvertisedMbps
    upload_mbps: AdvertisedMbps
    normal_download_mbps: Mbps | None = None
    normal_upload_mbps: Mbps | None = None
    min_download_mbps: Mbps | None = None
    min_upload_mbps: Mbps | None = None

    @model_validator(mode="after")
    def _defaults(self) -> Self:
        for direction in ("download", "upload"):
            advertised = getattr(self, f"{direction}_mbps")
            normal_field, min_field = f"normal_{direction}_mbps", f"min_{direction}_mbps"
            if getattr(self, normal_field) is None:
                setattr(self, normal_field, round(advertised * NORMAL_SHARE, 3))
            if getattr(self, min_field) is None:
                setattr(self, min_field, round(advertised * MINIMUM_SHARE, 3))
            if getattr(self, normal_field) > advertised:
                raise ValueError(f"{normal_field}: exceeds {direction}_mbps")
            if getattr(self, min_field) > getattr(self, normal_field):
                raise ValueError(f"{min_field}: exceeds {normal_field}")
        return self


class SubscriberIn(InventoryInput):
    """A subscriber: identity, contact, language, consents and notice opt-outs."""

    number: Name
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                        Field(json_schema_extra=personal("subscribers"))]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
                    Field(json_schema_extra=personal("subscribers"))]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\+?[0-9][0-9 ()/-]{5,19})?$"),
                     Field(json_schema_extra=personal("subscribers"))] = ""
    email: Annotated[Annotated[EmailStr, Field(max_length=254, description="An e-mail address whose domain has a dot.",
                                               json_schema_extra={"pattern": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+"
                                                                  r"(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"})] | None,
                     Field(json_schema_extra=personal("subscribers"))] = None
    language: Language = "sl"
    tax_number: Annotated[str, Field(max_length=16, description="Slovenian tax number: 8 digits, the last a "
                                     "mod-11 check digit (an SI prefix is accepted).",
                                     json_schema_extra=personal("subscribers"))] = ""
    ssid_consent: bool = False
    notification_opt_outs: list[NoticeCategory] = Field(default_factory=list, max_length=20)

    @field_validator("tax_number")
    @classmethod
    def _tax_number(cls, value: str) -> str:
        value = value.strip().upper().removeprefix("SI")
        if value and not slovenian_tax_number_ok(value):
            raise ValueError("not a valid Slovenian tax number (8 digits with a check digit)")
        return value

    @field_validator("email", mode="before")
    @classmethod
    def _empty_email(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("notification_opt_outs", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("notification_opt_outs")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class ContractIn(InventoryInput):
    """A subscriber's package from a start date (until an optional end date)."""

    subscriber: Name
    package: Name
    start_date: Date
    end_date: Date | None = None

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date: before start_date")
        return self


class DeviceIn(InventoryInput):
    """A router, CMTS, OLT or switch, polled over SNMP with a device profile."""

    name: Name
    kind: DeviceKind
    address: Annotated[str, Field(min_length=1, max_length=253, description="An IP address or a DNS host name.",
                                  json_schema_extra={"pattern": HOST_PATTERN})]
    port: Port = 161
    profile: Name = "if-mib"
    credential: Name | None = None
    enabled: bool = True
    max_rows: Annotated[int, Field(ge=1, le=1_000_000, description="Row cap of every table walk of this device "
                                   "(default: the profile's max_rows per table).")] | None = None
    poll_deadline_s: Annotated[float, Field(gt=0, le=3600, description="Seconds one poll of this device may take "
                                            "(default: the profile's poll_deadline_s).")] | None = None
    poller_group: PollerGroup = "default"

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_host(value)


class MemberIn(InventoryInput):
    """An interface counted toward a segment in one direction, by ifIndex or ifName."""

    device: Name
    direction: Direction
    if_index: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    if_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    counter: Counter | None = None

    @model_validator(mode="after")
    def _interface(self) -> Self:
        if self.if_index is None and self.if_name is None:
            raise ValueError("if_index: give if_index or if_name")
        if self.counter is None:
            self.counter = DEFAULT_COUNTER[self.direction]  # type: ignore[assignment]
        return self


class SegmentIn(InventoryInput):
    """A watched part of the network; ``members=None`` leaves existing members as they are."""

    name: Name
    kind: SegmentKind
    parent: Name | None = None
    capacity_down_mbps: Mbps | None = None
    capacity_up_mbps: Mbps | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    rules: dict[str, Any] = Field(default_factory=dict, max_length=50,
                                  description="Capacity rule overrides (checked by capacity).")
    members: Annotated[list[MemberIn], Field(max_length=MAX_MEMBERS)] | None = None


class CpeIn(InventoryInput):
    """A subscriber's CPE: identity, device profile, management address and attachments."""

    serial: Name
    mac: Annotated[str, Field(max_length=40, json_schema_extra={"pattern": r"^[:.\- ]*([0-9A-Fa-f][:.\- ]*){12}$"},
                              description="12 hex digits, optionally separated by : - . or spaces.")]
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    profile: Name = "docsis-cm"
    address: Annotated[str, Field(max_length=253, description="An IP address or a DNS host name; empty: none.",
                                  json_schema_extra={"pattern": HOST_PATTERN.replace("^(", "^(|", 1)})] | None = None
    port: Port = 161
    credential: Name | None = None
    subscriber: Name | None = None
    segment: Name | None = None
    enabled: bool = True
    poller_group: PollerGroup = "default"

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str) -> str:
        digits = re.sub(r"[^0-9a-f]", "", value.lower())
        if not MAC.match(digits) or len(re.sub(r"[:.\- ]", "", value)) != 12:
            raise ValueError("not a MAC address (12 hex digits)")
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value in (None, "") else check_host(value)
