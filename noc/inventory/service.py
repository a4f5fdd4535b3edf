"""Writing and reading inventory objects: upsert by natural key, references, audit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from noc.audit.service import record, value_hash
from noc.core.crypto import SecretBox
from noc.core.db import Base
from noc.core.errors import InvalidInput, NotFound, field_errors
from noc.core.events import EventBus
from noc.core.security import Actor
from noc.inventory.enums import NOTICE_CATEGORIES
from noc.inventory.kinds import CPE, CREDENTIAL, SEGMENT, SUBSCRIBER, Kind
from noc.inventory.models import (
    Contract,
    Cpe,
    Credential,
    Device,
    NotificationOptOut,
    Segment,
    SegmentMember,
    Subscriber,
)
from noc.inventory.schemas import CredentialIn, InventoryInput, SegmentIn, SubscriberIn

SEGMENT_RANK = {"access": 0, "aggregation": 1, "core": 2, "international": 3}
CREDENTIALS_PURPOSE = "snmp-credentials"


@dataclass(frozen=True)
class BeforeWrite:
    """Checked on the event bus before an inventory object is created or changed: a capability that owns
    part of the input (capacity: a segment's ``rules``) raises :class:`InvalidInput` to refuse it."""

    kind: str
    data: InventoryInput


def natural_key(kind: Kind, obj: Base) -> str:
    """A readable identity of ``obj`` (``S-1001``, ``cmts-1``, ``S-1001@2024-01-01``)."""
    if kind.name == "contract":
        return f"{obj.subscriber_id}@{obj.start_date}"  # type: ignore[attr-defined]
    return str(getattr(obj, kind.key[0]))


@dataclass
class InventoryWriter:
    """Applies inventory changes in one session on behalf of one actor; every change is audited."""

    session: Session
    actor: Actor
    box: SecretBox
    checks: EventBus
    """Where :class:`BeforeWrite` is checked: the runtime's bus, so every capability's checks apply."""
    reason: str = ""
    via: str = "api"

    def upsert(self, kind: Kind, data: InventoryInput) -> tuple[Base, str]:
        """Create or update the object ``data`` identifies; returns it and ``created``, ``updated`` or
        ``unchanged``."""
        self.checks.check(BeforeWrite(kind.name, data))
        values = self._column_values(kind, data)
        existing = self._find(kind, values)
        self._check_unique(kind, values, existing)
        obj = existing if existing is not None else kind.model()
        changed = [c for c, v in values.items() if existing is None or getattr(obj, c) != v]
        personal = self._personal_changes(kind, existing, values, changed)
        for column, value in values.items():
            setattr(obj, column, value)
        changed += self._apply_special(kind, obj, data, existing is None)
        if existing is None:
            self.session.add(obj)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except IntegrityError as exc:
            raise InvalidInput(None, f"conflicts with an existing record ({exc.orig.__class__.__name__})") from None
        if changed:
            action = f"{kind.name}.{'create' if existing is None else 'update'}"
            details: dict[str, Any] = {"key": natural_key(kind, obj), "changed": sorted(set(changed)), "via": self.via}
            if personal:
                details["personal"] = personal
            record(self.session, self.actor, action, kind.name, str(obj.id), reason=self.reason, details=details)  # type: ignore[attr-defined]
        return obj, "created" if existing is None else "updated" if changed else "unchanged"

    def patch(self, kind: Kind, obj: Base, changes: dict[str, Any]) -> Base:
        """Apply a partial change to ``obj``: each field was checked against its type by the caller (the API's
        patch model), the merged result is validated as a whole; a failure names the field, never a value."""
        for key_field in kind.key:
            if key_field in changes and changes[key_field] != getattr(obj, key_field, changes[key_field]):
                raise InvalidInput(key_field, f"{key_field} identifies the {kind.name} and cannot be changed")
        merged = {**to_input(self.session, kind, obj, self.box), **changes}
        try:
            data = kind.schema.model_validate(merged)
        except ValidationError as exc:  # the whole: which field breaks it, never the values
            field, message = field_errors(exc)[0]
            raise InvalidInput(field, message) from None
        updated, _ = self.upsert(kind, data)
        return updated

    def _personal_changes(self, kind: Kind, existing: Base | None, values: dict[str, Any],
                          changed: list[str]) -> dict[str, dict[str, str]]:
        """Per changed personal field, keyed hashes of the old (on an update) and new value, for the audit entry."""
        hashes = {}
        for column in sorted(set(changed) & set(kind.personal_fields)):
            hashed = {"new": value_hash(self.session, values[column])}
            if existing is not None:
                hashed["old"] = value_hash(self.session, getattr(existing, column))
            hashes[column] = hashed
        return hashes

    def _column_values(self, kind: Kind, data: InventoryInput) -> dict[str, Any]:
        values = {c: getattr(data, c) for c in kind.columns()}
        if kind is SUBSCRIBER:
            values["email"] = values["email"] or ""
        for ref in kind.refs:
            name = getattr(data, ref.field)
            values[ref.column] = None if name is None else self._resolve(ref.model, ref.key, name, ref.field)
        return values

    def _resolve(self, model: type[Base], key: str, name: Any, field: str) -> int:
        found = self.session.scalar(select(model.id).where(getattr(model, key) == name))  # type: ignore[attr-defined]
        if found is None:
            raise InvalidInput(field, f"no {model.__tablename__.removesuffix('s')} {name!r}")
        return int(found)

    def _find(self, kind: Kind, values: dict[str, Any]) -> Base | None:
        query = select(kind.model)
        for column in kind.key:
            query = query.where(getattr(kind.model, column) == values[column])
        return self.session.scalar(query)

    def _check_unique(self, kind: Kind, values: dict[str, Any], existing: Base | None) -> None:
        for column in kind.unique:
            query = select(kind.model.id).where(getattr(kind.model, column) == values[column])  # type: ignore[attr-defined]
            if existing is not None:
                query = query.where(kind.model.id != existing.id)  # type: ignore[attr-defined]
            if self.session.scalar(query) is not None:
                raise InvalidInput(column, f"{column} {values[column]!r} belongs to another {kind.name}")

    def _apply_special(self, kind: Kind, obj: Base, data: InventoryInput, created: bool) -> list[str]:
        if kind is CREDENTIAL:
            return self._apply_secrets(obj, data)  # type: ignore[arg-type]
        if kind is SUBSCRIBER:
            return self._apply_opt_outs(obj, data)  # type: ignore[arg-type]
        if kind is SEGMENT:
            self._check_parent(obj, data)  # type: ignore[arg-type]
            return self._apply_members(obj, data)  # type: ignore[arg-type]
        if kind is CPE and obj.segment_id is not None:  # type: ignore[attr-defined]
            segment = self.session.get(Segment, obj.segment_id)  # type: ignore[attr-defined]
            if segment is not None and segment.kind != "access":
                raise InvalidInput("segment", f"CPEs attach to an access segment; {segment.name!r} is {segment.kind}")
        return []

    def _apply_secrets(self, credential: Credential, data: CredentialIn) -> list[str]:
        secrets = data.secrets()
        if credential.sealed and self.box.open(credential.sealed) == secrets:
            return []
        credential.sealed = self.box.seal(secrets)
        return ["secrets"]

    def _apply_opt_outs(self, subscriber: Any, data: SubscriberIn) -> list[str]:
        wanted = set(data.notification_opt_outs)
        current = {o.category for o in subscriber.opt_outs}
        if wanted == current:
            return []
        subscriber.opt_outs = [o for o in subscriber.opt_outs if o.category in wanted] + [
            NotificationOptOut(category=c) for c in sorted(wanted - current)
        ]
        return ["notification_opt_outs"]

    def _check_parent(self, segment: Segment, data: SegmentIn) -> None:
        parent_id = segment.parent_id
        seen = {segment.id} if segment.id is not None else set()
        while parent_id is not None:
            if parent_id in seen:
                raise InvalidInput("parent", "would make the segment tree a cycle")
            seen.add(parent_id)
            parent = self.session.get(Segment, parent_id)
            if parent is None:
                break
            if parent_id == segment.parent_id and SEGMENT_RANK[parent.kind] < SEGMENT_RANK[data.kind]:
                raise InvalidInput("parent", f"a {data.kind} segment cannot hang under {parent.kind} {parent.name!r}")
            parent_id = parent.parent_id

    def _apply_members(self, segment: Segment, data: SegmentIn) -> list[str]:
        if data.members is None:
            return []
        wanted = []
        for i, member in enumerate(data.members):
            device_id = self._resolve(Device, "name", member.device, f"members.{i}.device")
            wanted.append((device_id, member.direction, member.counter, member.if_index, member.if_name))
        if len(set(wanted)) != len(wanted):
            raise InvalidInput("members", "the same interface is listed twice")
        current = [(m.device_id, m.direction, m.counter, m.if_index, m.if_name) for m in segment.members]
        if current == wanted:
            return []
        segment.members = [
            SegmentMember(device_id=d, direction=dr, counter=c, if_index=ix, if_name=nm)
            for d, dr, c, ix, nm in wanted
        ]
        return ["members"]


NOTHING_PROTECTED = "SNMPv3 noAuthNoPriv: nothing is protected (no authentication, no privacy)"


def credential_warning(obj: Base) -> str | None:
    """The warning a stored credential deserves (a v3 user without authentication), or None."""
    if isinstance(obj, Credential) and obj.version == "v3" and obj.auth_proto is None:
        return f"credential {obj.name}: {NOTHING_PROTECTED}"
    return None


def to_input(session: Session, kind: Kind, obj: Base, box: SecretBox | None = None) -> dict[str, Any]:
    """``obj`` in its input shape (references by natural key); secrets only when ``box`` is given."""
    out: dict[str, Any] = {}
    for name in kind.columns():
        out[name] = getattr(obj, name)
    for ref in kind.refs:
        ref_id = getattr(obj, ref.column)
        out[ref.field] = None if ref_id is None else getattr(session.get(ref.model, ref_id), ref.key)
    if kind is SUBSCRIBER:
        out["notification_opt_outs"] = [o.category for o in obj.opt_outs]  # type: ignore[attr-defined]
        out["email"] = out["email"] or None
    elif kind is SEGMENT:
        device_ids = [m.device_id for m in obj.members]  # type: ignore[attr-defined]
        devices = {d.id: d.name for d in session.scalars(select(Device).where(Device.id.in_(device_ids)))}
        out["members"] = [
            {"device": devices[m.device_id], "direction": m.direction, "counter": m.counter,
             "if_index": m.if_index, "if_name": m.if_name}
            for m in obj.members  # type: ignore[attr-defined]
        ]
    elif kind is CREDENTIAL and box is not None:
        out.update(box.open(obj.sealed))  # type: ignore[attr-defined]
    return out


def to_output(session: Session, kind: Kind, obj: Base) -> dict[str, Any]:
    """``obj`` as the API shows it: its input shape without secrets, plus id and timestamps."""
    out = {"id": obj.id, **to_input(session, kind, obj)}  # type: ignore[attr-defined]
    for name in kind.secret:
        out.pop(name, None)
    out["created_at"] = obj.created_at  # type: ignore[attr-defined]
    out["updated_at"] = obj.updated_at  # type: ignore[attr-defined]
    return out


def like_escape(text: str) -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character itself taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SEARCHABLE = {"subscriber": ("number", "username", "name", "email", "phone")}


def list_query(kind: Kind, filters: dict[str, Any], session: Session) -> Select[Any]:
    """A query for ``kind`` narrowed by ``filters`` (columns, references by natural key, ``q`` search)."""
    query = select(kind.model)
    for name, value in filters.items():
        if value is None:
            continue
        if name == "q":
            pattern = f"%{like_escape(value.lower())}%"
            columns = [getattr(kind.model, c) for c in SEARCHABLE.get(kind.name, ())]
            query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in columns)))
        elif name in kind.ref_by_field:
            ref = kind.ref_by_field[name]
            sub = select(ref.model.id).where(getattr(ref.model, ref.key) == value)  # type: ignore[attr-defined]
            query = query.where(getattr(kind.model, ref.column).in_(sub))
        else:
            query = query.where(getattr(kind.model, name) == value)
    return query


def page(session: Session, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of ``query`` in id order and the total count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.order_by(query.column_descriptions[0]["entity"].id).limit(limit).offset(offset))
    return list(rows), int(total)


def get_by_id(session: Session, kind: Kind, obj_id: int) -> Base:
    """The object of ``kind`` with ``obj_id``; raises NotFound."""
    obj = session.get(kind.model, obj_id)
    if obj is None:
        raise NotFound("id", f"no {kind.name} with id {obj_id}")
    return obj


def subtree(session: Session, segment_ids: Iterable[int]) -> set[int]:
    """The segments ``segment_ids`` and every segment below them in the tree."""
    children: dict[int, list[int]] = defaultdict(list)
    for segment_id, parent_id in session.execute(select(Segment.id, Segment.parent_id)):
        if parent_id is not None:
            children[parent_id].append(segment_id)
    found: set[int] = set()
    todo = list(segment_ids)
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children[current])
    return found


def has_active_contract(on: date) -> ColumnElement[bool]:
    """True for a subscriber (row of :class:`Subscriber`) with a contract running on ``on`` (start and end
    days included)."""
    return exists(select(Contract.id).where(
        Contract.subscriber_id == Subscriber.id, Contract.start_date <= on,
        or_(Contract.end_date.is_(None), Contract.end_date >= on)))


def _opt_out_of(category: str) -> ColumnElement[bool]:
    return and_(NotificationOptOut.subscriber_id == Subscriber.id, NotificationOptOut.category == category)


def _contact_columns() -> list[Any]:
    return [Subscriber.id, Subscriber.number, Subscriber.email, Subscriber.language,
            NotificationOptOut.subscriber_id.is_not(None).label("opted_out")]


def contacts(subscriber_ids: Collection[int], category: str) -> Select[Any]:
    """Subscribers ``subscriber_ids`` as notices need them: ``id``, ``number``, ``email``, ``language`` and
    ``opted_out`` (whether they refused notices of ``category``)."""
    return (select(*_contact_columns()).outerjoin(NotificationOptOut, _opt_out_of(category))
            .where(Subscriber.id.in_(subscriber_ids)))


def subscribers_on(segment_ids: Collection[int], on: date, category: str) -> Select[Any]:
    """Subscribers with a contract running on ``on`` and a CPE attached to one of ``segment_ids``, one row each:
    the columns of :func:`contacts` and ``segment_id`` (of their CPE; the lowest id when they have several)."""
    return (select(*_contact_columns(), func.min(Cpe.segment_id).label("segment_id"))
            .join(Cpe, Cpe.subscriber_id == Subscriber.id)
            .outerjoin(NotificationOptOut, _opt_out_of(category))
            .where(Cpe.segment_id.in_(segment_ids), has_active_contract(on))
            .group_by(Subscriber.id, Subscriber.number, Subscriber.email, Subscriber.language,
                      NotificationOptOut.subscriber_id))


def counts_by_segment(session: Session, segment_ids: Collection[int], on: date,
                      category: str) -> dict[int, dict[str, int]]:
    """Per segment of ``segment_ids`` with subscribers on it (as :func:`subscribers_on` finds them): how many,
    how many of them refused notices of ``category``, and how many of the others have no e-mail address."""
    opted = NotificationOptOut.subscriber_id.is_not(None)
    query = (select(Cpe.segment_id, func.count(func.distinct(Subscriber.id)),
                    func.count(func.distinct(case((opted, Subscriber.id)))),
                    func.count(func.distinct(case((and_(~opted, Subscriber.email == ""), Subscriber.id)))))
             .select_from(Subscriber)
             .join(Cpe, Cpe.subscriber_id == Subscriber.id)
             .outerjoin(NotificationOptOut, _opt_out_of(category))
             .where(Cpe.segment_id.in_(segment_ids), has_active_contract(on))
             .group_by(Cpe.segment_id))
    return {cast(int, segment_id): {"subscribers": total, "opted_out": opted_out, "no_email": no_email}
            for segment_id, total, opted_out, no_email in session.execute(query)}


def opt_out(session: Session, subscriber_id: int, category: str, actor: Actor, *, reason: str = "",
            via: str = "api") -> bool:
    """Record the subscriber's refusal of notices of ``category`` (audited); False when it was recorded already."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("subscriber", f"no subscriber with id {subscriber_id}")
    if category not in NOTICE_CATEGORIES:
        raise InvalidInput("category", f"no notice category {category!r}")
    if any(o.category == category for o in subscriber.opt_outs):
        return False
    try:
        with session.begin_nested():  # a concurrent opt-out of the same category may have won
            session.add(NotificationOptOut(subscriber_id=subscriber.id, category=category))
    except IntegrityError:
        return False
    session.expire(subscriber, ["opt_outs"])
    record(session, actor, "subscriber.update", "subscriber", str(subscriber.id), reason=reason,
           details={"key": subscriber.number, "changed": ["notification_opt_outs"], "via": via})
    return True
