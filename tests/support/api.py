"""Calling the API in tests: one user and token per role, and the header that carries a token."""

from __future__ import annotations

from noc.auth.service import add_user, issue_token
from noc.core.db import Database
from noc.core.security import SYSTEM, Role


def role_tokens(db: Database) -> dict[str, str]:
    """A user ``u-<role>`` with a fresh token for every role: role → token."""
    with db.session() as s:
        return {r.value: issue_token(s, add_user(s, f"u-{r.value}", r, SYSTEM), SYSTEM) for r in Role}


def auth(token: str) -> dict[str, str]:
    """The header that authenticates with ``token``."""
    return {"Authorization": f"Bearer {token}"}
