"""SNMP targets and credentials; secrets never appear in repr, str or exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AuthProto = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProto = Literal["DES", "AES", "AES192", "AES256"]


@dataclass(frozen=True, slots=True)
class V2c:
    """SNMPv2c community."""

    community: str = field(repr=False)

    def __repr__(self) -> str:
        return "V2c(community=<hidden>)"


@dataclass(frozen=True, slots=True)
class V3:
    """SNMPv3 USM user: authNoPriv when ``priv_key`` is None, else authPriv."""

    user: str
    auth_proto: AuthProto
    auth_key: str = field(repr=False)
    priv_proto: PrivProto | None = None
    priv_key: str | None = field(default=None, repr=False)

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
