"""Who acts: roles and the groups of roles endpoints admit, the authenticated caller, the audit actor."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a user is allowed to do; each endpoint names the roles it admits."""

    ADMIN = "admin"
    NOC_ENGINEER = "noc_engineer"
    AGENT = "agent"
    COMPLAINT_HANDLER = "complaint_handler"
    VIEWER = "viewer"


ROLE_NAMES: tuple[str, ...] = tuple(role.value for role in Role)

ALL_ROLES: frozenset[Role] = frozenset(Role)
"""Anyone with a valid token."""

PERSONAL_DATA_READERS: frozenset[Role] = frozenset({Role.ADMIN, Role.AGENT, Role.COMPLAINT_HANDLER})
"""Roles whose work needs subscribers' personal data (viewers and NOC engineers see none)."""

NETWORK_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.NOC_ENGINEER})
"""Roles that change the network inventory (devices, segments, CPEs, credentials)."""

NETWORK_READERS: frozenset[Role] = frozenset(
    {Role.ADMIN, Role.NOC_ENGINEER, Role.AGENT, Role.COMPLAINT_HANDLER}
)
"""Roles that see CPEs, which tie a device to a subscriber."""

ADMINS: frozenset[Role] = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log names it: a user name and the role they acted in."""

    name: str
    role: str


SYSTEM = Actor(name="system", role="system")
"""noc itself (scheduled jobs)."""


def cli_actor() -> Actor:
    """The operator at a shell, named by their login (the CLI acts with admin rights)."""
    return Actor(name=f"cli:{getpass.getuser()}", role="admin")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: int
    name: str
    role: Role

    @property
    def actor(self) -> Actor:
        """The caller as the audit log names it."""
        return Actor(name=self.name, role=self.role.value)
