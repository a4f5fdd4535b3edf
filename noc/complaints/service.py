"""Speed complaints: rule profiles in force, discrepancy records, complaint cases with their deadlines and
decisions, and evidence packs (stored once, released against the subscriber's tax number). Every change and
every look at a subscriber's evidence is audited; tax numbers never reach a log or the audit details."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from noc.audit.service import record as audit
from noc.complaints.deadlines import decision_due, local_date, lodging_deadline, regulator_window
from noc.complaints.models import OBJECT, ComplaintCase, EvidencePack, PackRelease
from noc.complaints.pack import build_pack
from noc.complaints.profiles import DEFAULT_PROFILE, Profile, profiles_in_force
from noc.complaints.record import MAX_PERIOD_DAYS, Record, build_record
from noc.core.db import utcnow
from noc.core.errors import Conflict, InvalidInput, NotFound
from noc.core.inputs import Date
from noc.core.privacy import personal
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.inventory.models import Subscriber

MAX_CAPTURE_DAYS = 31
"""An evidence capture never runs longer than this, whatever the period says."""
Channel = Literal["phone", "email", "letter", "in_person", "web"]


def profiles(settings: Settings) -> dict[str, Profile]:
    """The rule profiles in force (built-in and ``NOC_COMPLAINT_PROFILES_DIR``)."""
    return profiles_in_force(settings.complaint_profiles_dir)


def profile_named(settings: Settings, name: str | None) -> Profile:
    """The profile called ``name`` (default ``si-akos``); an unknown name is an input error."""
    known = profiles(settings)
    chosen = name or DEFAULT_PROFILE
    if chosen not in known:
        raise InvalidInput("profile", f"no rule profile {chosen!r} (known: {', '.join(sorted(known))})")
    return known[chosen]


def today(settings: Settings) -> date:
    """Today in the operator's time zone."""
    return local_date(utcnow(), ZoneInfo(settings.timezone))


def subscriber_record(session: Session, settings: Settings, subscriber_id: int, start: date | None,
                      end: date | None, profile: str | None) -> Record:
    """A subscriber's record; the period defaults to the 30 days up to today."""
    chosen = profile_named(settings, profile)
    end = end or today(settings)
    return build_record(session, subscriber_id, start or end - timedelta(days=29), end, chosen)


class CaseIn(BaseModel):
    """A complaint as lodged: who, how, what, and the dates its deadlines run from."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subscriber: str = Field(min_length=1, max_length=32, description="The subscriber's number.")
    channel: Channel
    description: str = Field("", max_length=5000, json_schema_extra=personal("complaint_cases"))
    learned_on: Date = Field(description="When the subscriber learned of the problem.")
    invoice_date: Date | None = Field(None, description="The invoice complained about (or give event_date).")
    event_date: Date | None = Field(None, description="The event complained about (or give invoice_date).")
    lodged_on: Date | None = Field(None, description="When it was lodged; default today (local).")
    profile: str | None = Field(None, description="Rule profile of the linked record; default si-akos.")
    period_from: Date | None = Field(None, description="Measurement period start; default learned_on.")
    period_to: Date | None = Field(None, description="Measurement period end; default lodged_on plus the "
                                   "profile's campaign days.")
    override_reason: str | None = Field(None, min_length=3, max_length=1000,
                                        description="Why a late complaint is accepted (handlers only).")

    @model_validator(mode="after")
    def _one_base(self) -> CaseIn:
        if (self.invoice_date is None) == (self.event_date is None):
            raise ValueError("invoice_date: give either invoice_date or event_date")
        return self


class PeriodIn(BaseModel):
    """A change of the linked record: its period and profile."""

    model_config = ConfigDict(extra="forbid")

    period_from: Date | None = None
    period_to: Date | None = None
    profile: str | None = None


class DecisionIn(BaseModel):
    """The operator's decision: upheld (with a remedy) or rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["upheld", "rejected"]
    remedy: Literal["lower_package", "fee_reduction", "termination"] | None = None
    note: str = Field("", max_length=5000)
    decided_on: Date | None = Field(None, description="Default today (local).")

    @model_validator(mode="after")
    def _remedy(self) -> DecisionIn:
        if self.outcome == "upheld" and self.remedy is None:
            raise ValueError("remedy: an upheld complaint names its remedy (lower_package, fee_reduction, "
                             "termination)")
        if self.outcome == "rejected" and self.remedy is not None:
            raise ValueError("remedy: a rejected complaint has no remedy")
        return self


def _capture_end(settings: Settings, period_to: date, opened: datetime) -> datetime:
    """The end of the period's last local day, at most :data:`MAX_CAPTURE_DAYS` after opening."""
    end = datetime.combine(period_to + timedelta(days=1), time(0), ZoneInfo(settings.timezone)).astimezone(UTC)
    return min(end, opened + timedelta(days=MAX_CAPTURE_DAYS))


def _period(settings: Settings, case: ComplaintCase, start: date, end: date) -> None:
    if end < start:
        raise InvalidInput("period_to", f"{end} is before period_from ({start})")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput("period_to", f"a period of at most {MAX_PERIOD_DAYS} days")
    case.period_from, case.period_to = start, end
    case.capture_until = _capture_end(settings, end, case.created_at)


def open_case(session: Session, settings: Settings, actor: Actor, data: CaseIn, reason: str = "") -> ComplaintCase:
    """Open a case: deadlines computed, a late complaint refused unless ``override_reason`` says why."""
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.number == data.subscriber))
    if subscriber_id is None:
        raise InvalidInput("subscriber", f"no subscriber {data.subscriber!r}")
    lodged = data.lodged_on or today(settings)
    if lodged > today(settings):
        raise InvalidInput("lodged_on", f"{lodged} lies in the future")
    for name in ("learned_on", "invoice_date", "event_date"):
        value = getattr(data, name)
        if value is not None and value > lodged:
            raise InvalidInput(name, f"{value} is after the day the complaint was lodged ({lodged})")
    lodging = lodging_deadline(data.learned_on, data.invoice_date, data.event_date)
    late = lodged > lodging.deadline
    if late and not data.override_reason:
        limit = "15 days from learning of it" if lodging.limit == "learned_on" else "60 days from the invoice/event"
        raise InvalidInput(lodging.limit, f"the complaint is late: it had to be lodged by {lodging.deadline} "
                           f"({limit}); a handler may accept it with override_reason")
    if not late and data.override_reason:
        raise InvalidInput("override_reason", f"the complaint is in time (lodging deadline {lodging.deadline}); "
                           "no override")
    profile = profile_named(settings, data.profile)
    now = utcnow()
    case = ComplaintCase(subscriber_id=subscriber_id, channel=data.channel, description=data.description,
                         learned_on=data.learned_on, invoice_date=data.invoice_date, event_date=data.event_date,
                         lodged_on=lodged, lodging_deadline=lodging.deadline, decision_due=decision_due(lodged),
                         late_override_reason=data.override_reason, profile=profile.name, created_by=actor.name,
                         created_at=now, state="open", decision_note="", capture_end_reason="")
    start = data.period_from or data.learned_on
    _period(settings, case, start, data.period_to or max(lodged, start) + timedelta(
        days=profile.campaign.within_days - 1))
    session.add(case)
    session.flush()
    audit(session, actor, "complaint.open", OBJECT, str(case.id), reason=reason,
          details={"subscriber_id": subscriber_id, "channel": data.channel, "late": late, "profile": profile.name})
    return case


def get_case(session: Session, case_id: int) -> ComplaintCase:
    """The case ``case_id``."""
    case = session.get(ComplaintCase, case_id)
    if case is None:
        raise NotFound("id", f"no complaint with id {case_id}")
    return case


def change_period(session: Session, settings: Settings, actor: Actor, case: ComplaintCase, data: PeriodIn,
                  reason: str = "") -> ComplaintCase:
    """Link the case to another record (period, profile); an open case's capture follows the new period."""
    if case.state != "open":
        raise Conflict("state", f"complaint {case.id} is {case.state}; its record is final")
    if data.profile is not None:
        case.profile = profile_named(settings, data.profile).name
    _period(settings, case, data.period_from or case.period_from, data.period_to or case.period_to)
    if case.capture_ended_at is not None and case.capture_until > utcnow():
        case.capture_ended_at, case.capture_end_reason = None, ""
    audit(session, actor, "complaint.period", OBJECT, str(case.id), reason=reason,
          details={"period_from": case.period_from, "period_to": case.period_to, "profile": case.profile})
    return case


def decide(session: Session, settings: Settings, actor: Actor, case: ComplaintCase, data: DecisionIn,
           reason: str = "") -> ComplaintCase:
    """Record the decision and remedy; the case's evidence capture ends."""
    if case.state != "open":
        raise Conflict("state", f"complaint {case.id} was decided on {case.decided_on}")
    decided = data.decided_on or today(settings)
    if decided < case.lodged_on or decided > today(settings):
        raise InvalidInput("decided_on", f"{decided} must lie between the lodging day ({case.lodged_on}) and today")
    case.state, case.outcome, case.remedy = "decided", data.outcome, data.remedy
    case.decision_note, case.decided_on = data.note, decided
    if case.capture_ended_at is None:
        case.capture_ended_at, case.capture_end_reason = utcnow(), "case decided"
    audit(session, actor, "complaint.decide", OBJECT, str(case.id), reason=reason,
          details={"outcome": data.outcome, "remedy": data.remedy, "in_time": decided <= case.decision_due})
    return case


def case_document(session: Session, case: ComplaintCase) -> dict[str, Any]:
    """A case as the API and the evidence pack show it (dates as local dates)."""
    subscriber = session.get(Subscriber, case.subscriber_id)
    assert subscriber is not None
    window = regulator_window(case.lodged_on, case.decided_on)
    packs = session.execute(select(EvidencePack.version, EvidencePack.generated_at, EvidencePack.sha256,
                                   EvidencePack.verdict).where(EvidencePack.case_id == case.id)
                            .order_by(EvidencePack.version)).all()
    return {
        "id": case.id, "subscriber": subscriber.number, "subscriber_id": subscriber.id,
        "subscriber_name": subscriber.name, "channel": case.channel, "description": case.description,
        "learned_on": case.learned_on, "invoice_date": case.invoice_date, "event_date": case.event_date,
        "lodged_on": case.lodged_on, "lodging_deadline": case.lodging_deadline, "late": case.lodged_on >
        case.lodging_deadline, "late_override_reason": case.late_override_reason, "decision_due": case.decision_due,
        "regulator_window": {"opens": window.opens, "closes": window.closes, "basis": window.basis},
        "state": case.state, "outcome": case.outcome, "remedy": case.remedy, "decision_note": case.decision_note,
        "decided_on": case.decided_on, "profile": case.profile, "period_from": case.period_from,
        "period_to": case.period_to,
        "record": f"/api/v1/subscribers/{subscriber.id}/discrepancy?from={case.period_from}&to={case.period_to}"
                  f"&profile={case.profile}",
        "capture": {"until": case.capture_until, "ended_at": case.capture_ended_at,
                    "end_reason": case.capture_end_reason,
                    "active": case.capture_ended_at is None and case.capture_until > utcnow()},
        "evidence": [{"version": v, "generated_at": at, "sha256": sha, "verdict": verdict}
                     for v, at, sha, verdict in packs],
        "created_by": case.created_by, "created_at": case.created_at,
    }


def due_cases(session: Session, settings: Settings, due_within: int | None, state: str | None,
              subscriber: str | None, limit: int, offset: int) -> tuple[list[ComplaintCase], int]:
    """Cases (newest first), or open cases whose decision is due within ``due_within`` days (overdue ones too),
    soonest first."""
    query = select(ComplaintCase)
    if subscriber is not None:
        query = query.join(Subscriber, Subscriber.id == ComplaintCase.subscriber_id).where(
            Subscriber.number == subscriber)
    if state is not None:
        query = query.where(ComplaintCase.state == state)
    if due_within is not None:
        horizon = today(settings) + timedelta(days=due_within)
        query = query.where(ComplaintCase.state == "open", ComplaintCase.decision_due <= horizon)
        order = (ComplaintCase.decision_due, ComplaintCase.id)
    else:
        order = (ComplaintCase.id.desc(),)  # type: ignore[assignment]
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset))), total


def case_record(session: Session, settings: Settings, case: ComplaintCase) -> Record:
    """The discrepancy record the case links."""
    return build_record(session, case.subscriber_id, case.period_from, case.period_to,
                        profile_named(settings, case.profile))


def generate_pack(session: Session, settings: Settings, actor: Actor, case: ComplaintCase,
                  reason: str = "") -> EvidencePack:
    """Build and store the next version of the case's evidence pack."""
    record = case_record(session, settings, case)
    version = (session.scalar(select(func.max(EvidencePack.version)).where(EvidencePack.case_id == case.id)) or 0) + 1
    generated = utcnow().replace(microsecond=0)
    content, digest = build_pack(case_document(session, case), record.document(), version, generated,
                                 settings.timezone)
    pack = EvidencePack(case_id=case.id, version=version, generated_at=generated, generated_by=actor.name,
                        verdict=record.verdict, sha256=digest, size=len(content), content=content)
    session.add(pack)
    session.flush()
    audit(session, actor, "complaint.evidence.generate", OBJECT, str(case.id), reason=reason,
          details={"version": version, "sha256": digest, "verdict": record.verdict})
    return pack


def stored_pack(session: Session, case: ComplaintCase, version: int | None) -> EvidencePack | None:
    """Version ``version`` of the case's pack (None: the newest), or None when there is none yet."""
    query = select(EvidencePack).where(EvidencePack.case_id == case.id)
    query = query.where(EvidencePack.version == version) if version is not None else query.order_by(
        EvidencePack.version.desc()).limit(1)
    pack = session.scalar(query)
    if pack is None and version is not None:
        raise NotFound("version", f"complaint {case.id} has no evidence pack version {version}")
    return pack


def normal_tax_number(value: str) -> str:
    """A tax number without spaces, dots or dashes, and without the ``SI`` VAT prefix."""
    return re.sub(r"[\s.\-]", "", value).upper().removeprefix("SI")


def release_pack(session: Session, actor: Actor, case: ComplaintCase, pack: EvidencePack, tax_number: str,
                 reason: str = "") -> bool:
    """Record the pack's release when ``tax_number`` is the subscriber's; a mismatch is audited and refused
    (returns False; the caller commits the audit entry and answers the refusal)."""
    subscriber = session.get(Subscriber, case.subscriber_id)
    assert subscriber is not None
    expected = normal_tax_number(subscriber.tax_number or "")
    matches = bool(expected) and hmac.compare_digest(expected.encode(), normal_tax_number(tax_number).encode())
    details = {"version": pack.version, "sha256": pack.sha256}
    if not matches:
        audit(session, actor, "complaint.evidence.release_refused", OBJECT, str(case.id), reason=reason,
              details={**details, "why": "tax number does not match" if expected else "no tax number on file"})
        return False
    session.add(PackRelease(pack_id=pack.id, by=actor.name))
    audit(session, actor, "complaint.evidence.release", OBJECT, str(case.id), reason=reason, details=details)
    return True

