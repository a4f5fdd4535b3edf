"""Live CPE sessions: who may look (an identified caller, consent, a recorded contact and reason), for how long,
and the record of every look.

The remote-assistance terms identify a caller by the call coming from the contract's contact number **and** the
caller giving the subscriber number or username; numbers are compared in E.164 (``041 123 456``, ``+386 41 123
456`` and ``00386 41 123 456`` are one number). Every opening, refusal, stream start, close and expiry is written to
the audit log with the agent, subscriber, CPE, reason and contact reference (never the caller's number).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.capacity.models import ACTIVE_STATES, SegmentLatest, UpgradeTicket
from noc.core.db import Database, utcnow
from noc.core.errors import Conflict, InvalidInput, NocError, NotFound
from noc.core.security import SYSTEM, Actor, Principal, Role
from noc.core.settings import Settings
from noc.inventory.models import Cpe, Segment, Subscriber
from noc.live.models import OBJECT, LiveReading, LiveSession
from noc.maintenance.service import covering

DEFAULT_REGION = "SI"
"""Numbers written without a country code are read as Slovenian."""
UPCOMING = timedelta(hours=72)
"""How far ahead a maintenance window on the CPE's segment is shown as upcoming."""


class CallerNotIdentified(NocError):
    """The call does not come from the contract's contact number (403)."""

    status = 403
    code = "caller_not_identified"


class TooManySessions(NocError):
    """The cap on concurrent live sessions is reached (429)."""

    status = 429
    code = "too_many_sessions"


class NotYours(NocError):
    """Only the session's agent (or an admin) may use it (403)."""

    status = 403
    code = "forbidden"


def e164(number: str, field: str = "caller_number") -> str:
    """``number`` in E.164 (``+38641123456``); national numbers are read as Slovenian."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, "is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(field, "is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def same_number(caller: str, contact: str) -> bool:
    """Whether ``caller`` is the contract's ``contact`` number (False when the contract has none usable)."""
    try:
        return bool(contact) and e164(caller) == e164(contact, "phone")
    except InvalidInput:
        return False


@dataclass(frozen=True)
class OpenRequest:
    """What an agent gives to open a session."""

    subscriber: str
    caller_number: str
    contact_ref: str
    reason: str
    consent: bool
    cpe: str | None = None
    minutes: int | None = None


def find_subscriber(session: Session, key: str) -> Subscriber | None:
    """The subscriber with number or username ``key`` (usernames compared case-insensitively)."""
    key = key.strip()
    return session.scalar(select(Subscriber).where(
        or_(Subscriber.number == key, func.lower(Subscriber.username) == key.lower())))


def search_subscribers(session: Session, text: str, limit: int = 20) -> list[Subscriber]:
    """Subscribers whose number, username or name starts with ``text`` (for the console's search)."""
    pattern = text.strip().lower() + "%"
    if len(pattern) < 3:
        return []
    return list(session.scalars(select(Subscriber).where(or_(
        func.lower(Subscriber.number).like(pattern), func.lower(Subscriber.username).like(pattern),
        func.lower(Subscriber.name).like(pattern))).order_by(Subscriber.number).limit(limit)))


def _refuse(db: Database, actor: Actor, error: NocError, request: OpenRequest, subscriber: str | None) -> None:
    """Write the refusal to the audit log in its own transaction (the request itself is answered with an error)."""
    with db.session() as s:
        record(s, actor, "live.refuse", OBJECT, "-", reason=request.reason[:500],
               details={"refusal": error.code, "field": error.field,
                        "subscriber": subscriber, "cpe": request.cpe,
                        "contact_ref": request.contact_ref})


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Close every open session whose time is up, audited as expired; returns how many."""
    now = now or utcnow()
    due = list(session.scalars(select(LiveSession).where(LiveSession.state == "open",
                                                         LiveSession.expires_at <= now)))
    for live in due:
        live.state, live.closed_at, live.closed_by = "expired", now, SYSTEM.name
        record(session, SYSTEM, "live.expire", OBJECT, str(live.id), reason="session expired",
               details={**_details(session, live), "expired_at": live.expires_at})
    return len(due)


def expire_cycle(db: Database) -> int:
    """The ``live.expire`` job: expire due sessions in one transaction."""
    with db.session() as s:
        return expire_due(s)


def _details(session: Session, live: LiveSession) -> dict[str, Any]:
    subscriber = session.get(Subscriber, live.subscriber_id)
    cpe = session.get(Cpe, live.cpe_id)
    return {"agent": live.agent, "subscriber": subscriber.number if subscriber else None,
            "cpe": cpe.serial if cpe else None, "contact_ref": live.contact_ref}


def _check(session: Session, request: OpenRequest, settings: Settings) -> tuple[Subscriber, Cpe, int]:
    """The subscriber, CPE and minutes of an acceptable request; raises the refusal otherwise."""
    if not request.contact_ref.strip():
        raise InvalidInput("contact_ref", "record the contact: give its reference")
    if not request.reason.strip():
        raise InvalidInput("reason", "say what the subscriber reported")
    minutes = request.minutes or settings.live_session_minutes
    if not 1 <= minutes <= settings.live_session_max_minutes:
        raise InvalidInput("minutes", f"must be between 1 and {settings.live_session_max_minutes}")
    subscriber = find_subscriber(session, request.subscriber)
    if subscriber is None:
        raise NotFound("subscriber", "no subscriber has this number or username")
    caller = e164(request.caller_number)
    if not same_number(caller, subscriber.phone):
        raise CallerNotIdentified("caller_number", "the call does not come from the contract's contact number")
    if not request.consent:
        raise InvalidInput("consent", "tell the subscriber what the session allows and record their consent")
    cpes = list(session.scalars(select(Cpe).where(Cpe.subscriber_id == subscriber.id, Cpe.enabled.is_(True))
                                .order_by(Cpe.serial)))
    if request.cpe:
        cpe = next((c for c in cpes if c.serial == request.cpe), None)
        if cpe is None:
            raise NotFound("cpe", "the subscriber has no CPE with this serial")
    elif len(cpes) == 1:
        cpe = cpes[0]
    elif not cpes:
        raise NotFound("cpe", "the subscriber has no CPE")
    else:
        raise InvalidInput("cpe", "the subscriber has several CPEs: name one of " + ", ".join(c.serial for c in cpes))
    return subscriber, cpe, minutes


def open_session(db: Database, settings: Settings, who: Principal, request: OpenRequest) -> LiveSession:
    """Open a session for an identified caller who consented, or refuse (audited) with the reason."""
    known: str | None = None
    try:
        with db.session() as s:
            found = find_subscriber(s, request.subscriber)
            known = found.number if found else None
            subscriber, cpe, minutes = _check(s, request, settings)
            expire_due(s)
            mine = s.scalar(select(LiveSession.id).where(LiveSession.state == "open", LiveSession.cpe_id == cpe.id,
                                                         LiveSession.agent_id == who.user_id))
            if mine is not None:
                raise Conflict("cpe", f"you have session {mine} open on this CPE already")
            running = s.scalar(select(func.count()).select_from(LiveSession).where(LiveSession.state == "open"))
            if (running or 0) >= settings.live_max_sessions:
                raise TooManySessions(None, f"{settings.live_max_sessions} live sessions are open; try again later")
            now = utcnow()
            live = LiveSession(agent_id=who.user_id, agent=who.name, agent_role=who.role.value,
                               subscriber_id=subscriber.id, cpe_id=cpe.id, caller_number=e164(request.caller_number),
                               consent=True, contact_ref=request.contact_ref.strip(), reason=request.reason.strip(),
                               state="open", opened_at=now, expires_at=now + timedelta(minutes=minutes))
            s.add(live)
            s.flush()
            record(s, who.actor, "live.open", OBJECT, str(live.id), reason=live.reason,
                   details={**_details(s, live), "expires_at": live.expires_at})
            s.expunge(live)
            return live
    except NocError as error:
        _refuse(db, who.actor, error, request, known)
        raise


def get(session: Session, session_id: int, who: Principal) -> LiveSession:
    """Session ``session_id`` if ``who`` may see it (its agent, or an admin)."""
    live = session.get(LiveSession, session_id)
    if live is None:
        raise NotFound("session_id", f"no live session {session_id}")
    if live.agent_id != who.user_id and who.role is not Role.ADMIN:
        raise NotYours(None, "only the session's agent or an admin may use it")
    return live


def list_sessions(session: Session, who: Principal, state: str | None, limit: int, offset: int) \
        -> tuple[list[LiveSession], int]:
    """Sessions newest first (an agent sees their own, an admin everybody's), optionally in one state."""
    query = select(LiveSession)
    if who.role is not Role.ADMIN:
        query = query.where(LiveSession.agent_id == who.user_id)
    if state is not None:
        query = query.where(LiveSession.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(LiveSession.id.desc()).limit(limit).offset(offset))), total


def close_session(db: Database, session_id: int, who: Principal, note: str) -> LiveSession:
    """Close with the agent's description of the work (mandatory); audited."""
    if not note.strip():
        raise InvalidInput("note", "describe the work done in this contact")
    with db.session() as s:
        expire_due(s)
        live = get(s, session_id, who)
        if live.state != "open":
            raise Conflict(None, f"the session is {live.state} already")
        live.state, live.closed_at, live.closed_by, live.note = "closed", utcnow(), who.name, note.strip()
        record(s, who.actor, "live.close", OBJECT, str(live.id), reason=live.reason,
               details={**_details(s, live), "note_chars": len(live.note)})
        s.flush()
        s.expunge(live)
        return live


@dataclass(frozen=True)
class StreamTarget:
    """What a stream needs of its session: the CPE to read, until when, and who watches through what."""

    session_id: int
    cpe_id: int
    segment_id: int | None
    expires_at: datetime
    who: Principal
    via: str


def start_stream(db: Database, session_id: int, who: Principal, via: str) -> StreamTarget:
    """Check (reading only) that ``who`` may read the session's stream and that it is open; an expired one is
    expired now (audited). The stream's start is audited by :func:`audit_stream` before its first reading."""
    with db.read_session() as s:
        live = get(s, session_id, who)
        state, expired = live.state, live.state == "open" and live.expires_at <= utcnow()
        cpe = s.get(Cpe, live.cpe_id)
        opened = StreamTarget(live.id, live.cpe_id, cpe.segment_id if cpe else None, live.expires_at, who, via)
    if expired:
        expire_cycle(db)
        state = "expired"
    if state != "open":
        raise Conflict(None, f"the session is {state}")
    return opened


def audit_stream(db: Database, opened: StreamTarget) -> None:
    """Write the stream's start to the audit log (done while its first reading is taken, before it is sent)."""
    with db.session() as s:
        live = s.get(LiveSession, opened.session_id)
        assert live is not None
        record(s, opened.who.actor, "live.stream", OBJECT, str(live.id), reason=live.reason,
               details={**_details(s, live), "via": opened.via})


def still_open(db: Database, session_id: int) -> bool:
    """Whether the session is open; a read, unless its time is up (then it is expired, audited)."""
    with db.read_session() as s:
        row = s.execute(select(LiveSession.state, LiveSession.expires_at).where(LiveSession.id == session_id)).first()
    if row is None or row.state != "open":
        return False
    if row.expires_at > utcnow():
        return True
    expire_cycle(db)
    return False


def context(session: Session, segment_id: int | None, now: datetime | None = None) -> dict[str, Any]:
    """The access segment's utilization now, its open upgrade tickets and maintenance now or upcoming."""
    if segment_id is None:
        return {"segment": None}
    now = now or utcnow()
    segment = session.get(Segment, segment_id)
    latest = {row.direction: round(row.utilization, 4) for row in
              session.scalars(select(SegmentLatest).where(SegmentLatest.segment_id == segment_id))}
    tickets = [{"id": t.id, "direction": t.direction, "rule": t.rule, "state": t.state}
               for t in session.scalars(select(UpgradeTicket).where(UpgradeTicket.segment_id == segment_id,
                                                                    UpgradeTicket.state.in_(ACTIVE_STATES)))]
    windows = [{"id": w.id, "kind": w.kind, "title": w.title, "starts_at": w.starts_at.isoformat(),
                "ends_at": w.ends_at.isoformat() if w.ends_at else None, "active": w.starts_at <= now}
               for w in covering(session, segment_id, now, now + UPCOMING)]
    return {"segment": segment.name if segment else None, "utilization": latest, "tickets": tickets,
            "maintenance": windows}


def store_reading(db: Database, session_id: int, reading: dict[str, Any]) -> None:
    """Keep a streamed reading with its session."""
    with db.session() as s:
        s.add(LiveReading(session_id=session_id, at=datetime.fromisoformat(reading["at"]), state=reading["state"],
                          grade=reading["grade"] or "none", reading=json.dumps(reading, default=str)))


def readings(session: Session, session_id: int, limit: int, offset: int) -> list[LiveReading]:
    """A session's kept readings, oldest first."""
    return list(session.scalars(select(LiveReading).where(LiveReading.session_id == session_id)
                                .order_by(LiveReading.id).limit(limit).offset(offset)))
