"""SNMP targets and credentials; secrets never appear in repr, str or exceptions."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar, get_args

AuthProto = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProto = Literal["DES", "AES", "AES192", "AES256", "AES192C", "AES256C"]
"""AES192/AES256 extend the key as net-snmp's AES-192/AES-256 do (draft-blumenthal-aes-usm-04); AES192C/AES256C
as Cisco and net-snmp's AES-192-C/AES-256-C do (the draft-reeder 3DES procedure)."""
SecurityLevel = Literal["noAuthNoPriv", "authNoPriv", "authPriv"]

AUTH_PROTOCOLS: tuple[AuthProto, ...] = get_args(AuthProto)
PRIV_PROTOCOLS: tuple[PrivProto, ...] = get_args(PrivProto)

_NONE = frozenset({"", "NONE", "NOAUTH", "NOPRIV"})
_AUTH_ALIASES: dict[str, AuthProto] = {
    "MD5": "MD5", "HMACMD5": "MD5", "HMACMD596": "MD5",
    "SHA": "SHA", "SHA1": "SHA", "HMACSHA": "SHA", "HMACSHA1": "SHA", "HMACSHA96": "SHA", "HMACSHA196": "SHA",
    **{f"{prefix}{bits}": f"SHA{bits}"  # type: ignore[misc]
       for bits in (224, 256, 384, 512) for prefix in ("SHA", "SHA2", "HMACSHA", "HMACSHA2")},
    # RFC 7860's names: HMAC-128-SHA-224 ... HMAC-384-SHA-512 (usmHMAC192SHA256AuthProtocol...)
    "HMAC128SHA224": "SHA224", "HMAC192SHA256": "SHA256", "HMAC256SHA384": "SHA384", "HMAC384SHA512": "SHA512",
}  # fmt: skip
_PRIV_ALIASES: dict[str, PrivProto] = {
    "DES": "DES", "DES56": "DES", "CBCDES": "DES", "DESCBC": "DES",
    "AES": "AES", "AES128": "AES", "AESCFB128": "AES", "CFB128AES128": "AES",
    "AES192": "AES192", "AES256": "AES256",
    "AES192C": "AES192C", "AES256C": "AES256C", "AES192CISCO": "AES192C", "AES256CISCO": "AES256C",
}  # fmt: skip
_SEPARATORS = re.compile(r"[\s_\-./]+")
P = TypeVar("P", bound=str)


def _squashed(name: str) -> str:
    return _SEPARATORS.sub("", name).upper()


def _normalised(name: str | None, aliases: Mapping[str, P], kind: str, accepted: str) -> P | None:
    if name is None or _squashed(name) in _NONE:
        return None
    proto = aliases.get(_squashed(name))
    if proto is None:
        raise ValueError(f"unknown SNMPv3 {kind} protocol {name!r}: use {accepted}")
    return proto


def normalise_auth_protocol(name: str | None) -> AuthProto | None:
    """An authentication protocol as operators write it → its canonical name: ``"sha-256"``, ``"SHA256"``,
    ``"HMAC-SHA-256"`` → ``"SHA256"``, ``"sha1"`` → ``"SHA"``; None, ``""`` or ``"none"`` → None (noAuthNoPriv).

    Raises ValueError listing the accepted names for anything else."""
    return _normalised(
        name, _AUTH_ALIASES, "authentication",
        "MD5, SHA (SHA-1), SHA-224, SHA-256, SHA-384, SHA-512 or none (any case and separators: sha256, HMAC-SHA-256)",
    )  # fmt: skip


def normalise_priv_protocol(name: str | None) -> PrivProto | None:
    """A privacy protocol as operators write it → its canonical name: ``"AES-128"``, ``"aes"`` → ``"AES"``,
    ``"AES-192"`` → ``"AES192"``, ``"AES-256-C"`` → ``"AES256C"`` (Cisco's key extension), ``"DES56"`` →
    ``"DES"``; None, ``""`` or ``"none"`` → None (no privacy).

    Raises ValueError listing the accepted names for anything else."""
    return _normalised(
        name, _PRIV_ALIASES, "privacy",
        "DES, AES (AES-128), AES-192, AES-256 (net-snmp's key extension), AES-192-C, AES-256-C (Cisco's) or none",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class V2c:
    """SNMPv2c community."""

    community: str = field(repr=False)

    def __repr__(self) -> str:
        return "V2c(community=<hidden>)"


@dataclass(frozen=True, slots=True)
class V3:
    """SNMPv3 USM user: noAuthNoPriv without ``auth_proto``, authNoPriv without ``priv_proto``, else authPriv.

    Protocol names are normalised as :func:`normalise_auth_protocol` / :func:`normalise_priv_protocol` do; an
    unknown name is kept as given and refused when the credentials are used (an error of that target only).
    """

    user: str
    auth_proto: AuthProto | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_proto: PrivProto | None = None
    priv_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for attr, normalise in (("auth_proto", normalise_auth_protocol), ("priv_proto", normalise_priv_protocol)):
            with contextlib.suppress(ValueError):  # refused by usm.check_credentials, for this target only
                object.__setattr__(self, attr, normalise(getattr(self, attr)))

    @property
    def level(self) -> SecurityLevel:
        """The USM security level these credentials ask for."""
        if self.auth_proto is None:
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_proto is None else "authPriv"

    def __repr__(self) -> str:
        return f"V3(user={self.user!r}, auth={self.auth_proto}, priv={self.priv_proto}, keys=<hidden>)"


Credentials = V2c | V3


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to reach one SNMP agent."""

    host: str
    port: int = 161
    credentials: Credentials = field(default_factory=lambda: V2c("public"))
    timeout: float = 2.0
    retries: int = 1

    @property
    def address(self) -> str:
        """``host:port`` (no credentials), for logs and errors."""
        return f"{self.host}:{self.port}"
