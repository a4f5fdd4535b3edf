"""Subject access, erasure, holds and retention over every capability's :class:`PersonalData` part.

The parts come from the runtime (``Runtime.personal_data``, filled by the composition root); this module names no
other capability.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.orm import Session

from noc.audit.service import record as audit
from noc.core.db import Database, utcnow
from noc.core.errors import Conflict, InvalidInput, NotFound
from noc.core.metrics import REGISTRY
from noc.core.privacy import DataKind, Expiry, PersonalData
from noc.core.security import SYSTEM, Actor
from noc.core.settings import Settings
from noc.inventory.models import Subscriber
from noc.privacy.models import LegalHold

log = logging.getLogger(__name__)
Parts = Mapping[str, PersonalData]
EXPIRED = Counter("noc_privacy_expired_total", "Records deleted or anonymised by the retention job, per data kind.",
                  ["kind"], registry=REGISTRY)
EXPORT_FORMAT = "noc-subject-access/1"


def kinds(parts: Parts) -> list[tuple[str, DataKind]]:
    """Every declared data kind with the capability that holds it, in capability order."""
    return [(name, kind) for name, part in parts.items() for kind in part.kinds]


def retention_days(parts: Parts, settings: Settings) -> dict[str, int]:
    """Days of retention per kind that has one: the declared default, or ``NOC_RETENTION_DAYS``'s value."""
    declared = {kind.name: kind for _, kind in kinds(parts)}
    unknown = sorted(set(settings.retention_days) - set(declared))
    if unknown:
        raise InvalidInput("retention_days", f"no data kind {', '.join(unknown)}; kinds with a retention: "
                           f"{', '.join(k for k, d in declared.items() if d.retention_days is not None)}")
    days = {name: kind.retention_days for name, kind in declared.items() if kind.retention_days is not None}
    for name, value in settings.retention_days.items():
        if value < 1:
            raise InvalidInput("retention_days", f"{name}: at least 1 day")
        days[name] = value
    return days


def _subscriber(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("id", f"no subscriber with id {subscriber_id}")
    return subscriber


def held(session: Session, parts: Parts) -> dict[int, list[str]]:
    """Every subscriber under a hold, with the reasons from every part."""
    found: dict[int, list[str]] = {}
    for part in parts.values():
        for subscriber_id, reasons in part.holds(session).items():
            found.setdefault(subscriber_id, []).extend(reasons)
    return found


def audit_objects(session: Session, parts: Parts, subscriber_ids: Collection[int]) -> set[tuple[str, str]]:
    """(object type, id) that audit entries about these subscribers name: the subscribers and every part's records
    of them."""
    found = {("subscriber", str(subscriber_id)) for subscriber_id in subscriber_ids}
    for part in parts.values():
        found |= part.audit_objects(session, subscriber_ids)
    return found


def export(session: Session, parts: Parts, actor: Actor, subscriber_id: int, reason: str) -> dict[str, Any]:
    """Everything noc holds about the subscriber, per kind (audited with the reason)."""
    if not reason.strip():
        raise InvalidInput("reason", "say why the data is exported (e.g. the subscriber's request reference)")
    _subscriber(session, subscriber_id)
    data: dict[str, list[dict[str, Any]]] = {}
    objects = audit_objects(session, parts, [subscriber_id])
    for part in parts.values():
        data.update(part.export(session, subscriber_id))
        data.update(part.export_about(session, subscriber_id, objects))
    audit(session, actor, "subscriber.export", "subscriber", str(subscriber_id), reason=reason,
          details={"kinds": sorted(k for k, v in data.items() if v)})
    return {"format": EXPORT_FORMAT, "subscriber": subscriber_id, "generated_at": utcnow().isoformat(),
            "data": data}


def export_zip(session: Session, parts: Parts, document: dict[str, Any]) -> bytes:
    """The export as a zip: ``export.json`` and every file the parts hold (evidence packs)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(document, ensure_ascii=False, indent=1, default=str))
        for part in parts.values():
            for name, content in part.files(session, document["subscriber"]):
                archive.writestr(name, content)
    return buffer.getvalue()


def erase(session: Session, parts: Parts, actor: Actor, subscriber_id: int, reason: str) -> dict[str, int]:
    """Anonymise the subscriber and take what erasure may take; refused with the reasons under a hold."""
    if not reason.strip():
        raise InvalidInput("reason", "say why (e.g. the subscriber's erasure request reference)")
    _subscriber(session, subscriber_id)
    reasons = held(session, parts).get(subscriber_id)
    if reasons:
        raise Conflict("id", "erasure refused, the data must be kept: " + "; ".join(reasons))
    counts: dict[str, int] = {}
    for part in parts.values():
        counts.update(part.erase(session, subscriber_id))
    audit(session, actor, "subscriber.erase", "subscriber", str(subscriber_id), reason=reason,
          details={"counts": counts})
    return counts


def place_hold(session: Session, actor: Actor, subscriber_id: int, reason: str) -> LegalHold:
    """Put the subscriber's data on hold (audited)."""
    if not reason.strip():
        raise InvalidInput("reason", "say why the data must be kept")
    _subscriber(session, subscriber_id)
    hold = LegalHold(subscriber_id=subscriber_id, reason=reason, placed_by=actor.name)
    session.add(hold)
    session.flush()
    audit(session, actor, "subscriber.hold.place", "subscriber", str(subscriber_id), reason=reason,
          details={"hold": hold.id})
    return hold


def release_hold(session: Session, actor: Actor, subscriber_id: int, hold_id: int, reason: str) -> LegalHold:
    """Release a hold (audited); releasing one twice is a conflict."""
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.subscriber_id != subscriber_id:
        raise NotFound("hold_id", f"subscriber {subscriber_id} has no hold {hold_id}")
    if hold.released_at is not None:
        raise Conflict("hold_id", f"hold {hold_id} was released already")
    hold.released_at, hold.released_by = utcnow(), actor.name
    audit(session, actor, "subscriber.hold.release", "subscriber", str(subscriber_id), reason=reason,
          details={"hold": hold.id})
    return hold


def run_retention(db: Database, settings: Settings, parts: Parts, now: datetime | None = None) -> dict[str, int]:
    """Delete or anonymise every kind's expired records, sparing held subscribers; one transaction, one log line,
    counted in ``/metrics`` and audited."""
    days = retention_days(parts, settings)
    with db.session() as session:
        holding = frozenset(held(session, parts))
        expiry = Expiry(now or datetime.now(UTC), days, holding, frozenset(audit_objects(session, parts, holding)))
        counts: dict[str, int] = {}
        for part in parts.values():
            counts.update(part.expire(session, expiry))
        audit(session, SYSTEM, "privacy.retention", "privacy", "retention",
              details={"counts": counts, "held": len(expiry.held), "now": expiry.now.isoformat()})
        session.commit()
    for kind, count in counts.items():
        EXPIRED.labels(kind).inc(count)
    log.info("retention: %s removed or anonymised; %d subscribers held",
             ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing", len(expiry.held))
    return counts


def records_of_processing(parts: Parts, settings: Settings) -> str:
    """The records of processing (``docs/privacy.md``) in Markdown, from the parts' declarations."""
    days = retention_days(parts, settings)
    lines = ["# Records of processing", "",
             "Generated by `noc privacy records` from the personal-data declarations of each capability "
             "(`noc/*/privacy.py`); a test keeps this file equal to what the code declares.", "",
             "Retention with a number of days is applied by the daily retention job (`privacy.retention`); "
             "`NOC_RETENTION_DAYS` (JSON, e.g. `{\"measurements\": 365}`) changes it per kind. Nothing is removed "
             "while the subscriber has an open complaint case or a legal hold.", "",
             "| kind | capability | what | purpose | legal basis | retention | default days | stored in |",
             "|---|---|---|---|---|---|---|---|"]
    for capability, kind in kinds(parts):
        lines.append(f"| `{kind.name}` | {capability} | {kind.description} | {kind.purpose} | {kind.legal_basis} | "
                     f"{kind.retention} | {days.get(kind.name, '—')} | `{kind.stored_in}` |")
    return "\n".join(lines) + "\n"
