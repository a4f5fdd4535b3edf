"""The roles a user can hold and the groups of roles that endpoints admit."""

from __future__ import annotations

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
