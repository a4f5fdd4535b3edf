"""Creating users, issuing bearer tokens and resolving a token to its user."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.auth.models import ApiToken, User
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.core.errors import Conflict
from noc.core.security import Actor, Principal, Role

TOKEN_PREFIX = "noc_"
log = logging.getLogger("noc.auth")


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (tokens carry 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(session: Session, name: str, role: Role, actor: Actor) -> User:
    """Create a user; fails when the name is taken."""
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict("name", f"user {name!r} already exists")
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


TOUCH_EVERY = timedelta(minutes=1)
"""A token's ``last_used_at`` is kept to this precision (a read never writes more often than this)."""


class TokenAuthenticator:
    """Resolves API tokens to callers for the HTTP layer (``Runtime.authenticator``).

    The lookup only reads. ``last_used_at`` is written at most once per :data:`TOUCH_EVERY` per token, in a
    short transaction of its own on a background thread, so an authenticated read never takes or waits for a
    write lock.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None

    def __call__(self, session: Session, token: str) -> Principal | None:
        row = session.execute(
            select(ApiToken.id, ApiToken.last_used_at, User.id, User.name, User.role)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.digest == token_digest(token), ApiToken.revoked_at.is_(None), User.disabled.is_(False))
        ).first()
        if row is None:
            return None
        token_id, last_used, user_id, name, role = row
        now = utcnow()
        with self._lock:
            last = max((t for t in (last_used, self._touched.get(token_id)) if t is not None), default=None)
            due = last is None or now - last >= TOUCH_EVERY
            if due:
                self._touched[token_id] = now
        if due:
            with self._lock:
                if self._writer is None:
                    self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="noc-token-touch")
                self._writer.submit(self._touch, token_id, now)
        return Principal(user_id=user_id, name=name, role=Role(role))

    def _touch(self, token_id: int, now: datetime) -> None:
        try:
            with self.db.session() as w:
                w.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        except Exception as exc:  # a missed touch only makes last_used_at older; the next one is due again
            log.warning("token %s: last_used_at not written (%s)", token_id, exc.__class__.__name__)
            with self._lock:
                self._touched.pop(token_id, None)

    def close(self) -> None:
        """Finish the pending ``last_used_at`` writes (a later request starts a new writer)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)


def wire(runtime: Runtime) -> None:
    """Resolve API tokens for the HTTP layer."""
    authenticator = TokenAuthenticator(runtime.db)
    runtime.authenticator = authenticator
    runtime.closers.append(authenticator.close)
