"""Creating users, issuing bearer tokens and resolving a token to its user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.audit.service import Actor, record
from noc.auth.models import ApiToken, User
from noc.auth.roles import Role
from noc.db import utcnow

TOKEN_PREFIX = "noc_"


class AuthError(Exception):
    """A user or token operation that cannot be done (the message says why)."""


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


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (tokens carry 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: Role, actor: Actor) -> User:
    """Create a user; fails when the name is taken."""
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AuthError(f"user {name!r} already exists")
    user = User(name=name, role=role.value)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", str(user.id), details={"name": name, "role": role.value})
    return user


def issue_token(session: Session, user: User, actor: Actor, label: str = "") -> str:
    """Create a new bearer token for ``user`` and return it; only its digest is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=token_digest(token), label=label))
    session.flush()
    record(session, actor, "token.issue", "user", str(user.id), details={"label": label})
    return token


def revoke_tokens(session: Session, user: User, actor: Actor) -> int:
    """Revoke every live token of ``user``; returns how many."""
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for token in live:
        token.revoked_at = now
    if live:
        record(session, actor, "token.revoke", "user", str(user.id), details={"count": len(live)})
    return len(live)


def user_by_name(session: Session, name: str) -> User | None:
    """The user called ``name``, if any."""
    return session.scalar(select(User).where(User.name == name))


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal a live token belongs to, or None."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.digest == token_digest(token), ApiToken.revoked_at.is_(None), User.disabled.is_(False))
    ).first()
    if row is None:
        return None
    api_token, user = row
    api_token.last_used_at = utcnow()
    return Principal(user_id=user.id, name=user.name, role=Role(user.role))
