"""What a capability tells the privacy capability about the personal data it holds.

Each capability that stores data about subscribers exposes a :class:`PersonalData` object as its ``privacy`` part
(``PERSONAL_DATA`` in its ``privacy.py``): the kinds of data it holds (the records of processing are generated from
them), and how to export, erase and expire them. The privacy capability only calls these; a new capability adds its
part without privacy's code changing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Executable
    from sqlalchemy.orm import Session


def records(session: Session, statement: Executable) -> list[dict[str, Any]]:
    """The rows of a SELECT as JSON-ready dicts (dates and times in ISO 8601)."""
    return [{key: value.isoformat() if isinstance(value, date) else value for key, value in row.items()}
            for row in session.execute(statement).mappings()]


def affected(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it touched."""
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return int(result.rowcount)  # type: ignore[attr-defined]


MARKS = ("x-personal", "x-personal-kind")
"""The keys marking a personal field in the OpenAPI document."""


def personal(kind: str, **extra: Any) -> dict[str, Any]:
    """A pydantic field's ``json_schema_extra`` marking it in the OpenAPI document as personal data of ``kind`` (one
    of the :class:`DataKind` names; the field is listed in its ``fields``), with ``extra`` keys beside."""
    return {MARKS[0]: True, MARKS[1]: kind, **extra}


def marks(extra: Any) -> dict[str, Any] | None:
    """Only the personal-data marks of a field's ``json_schema_extra`` (to carry them to a derived model)."""
    kept = {key: value for key, value in extra.items() if key in MARKS} if isinstance(extra, dict) else {}
    return kept or None


@dataclass(frozen=True)
class DataKind:
    """One kind of personal data, as the records of processing list it."""

    name: str
    """Identifier, also the key of its retention setting (``NOC_RETENTION_DAYS``)."""
    description: str
    purpose: str
    legal_basis: str
    stored_in: str
    """Where: table names (and files)."""
    retention: str
    """The rule in words (shown in the records of processing)."""
    retention_days: int | None = None
    """Default days after which the job removes it; None: removed by a rule the capability applies itself."""
    fields: tuple[str, ...] = ()
    """Its fields that identify or describe the person, as the API and the export name them: wherever they appear
    in the OpenAPI document they are marked ``x-personal`` (:func:`personal`; a test holds every schema to it)."""


@dataclass(frozen=True)
class Expiry:
    """What the retention job hands every part: the clock, the days per kind, and who is under hold."""

    now: datetime
    days: Mapping[str, int]
    held: frozenset[int]
    """Subscriber ids whose data must not be removed (open complaint case, legal hold)."""
    held_objects: frozenset[tuple[str, str]] = frozenset()
    """(object type, id) of the held subscribers' records that audit entries name (every part's
    :meth:`PersonalData.audit_objects`): entries about them are kept too."""

    def cutoff(self, kind: str) -> datetime:
        """Records of ``kind`` older than this have expired."""
        return self.now - timedelta(days=self.days[kind])


class PersonalData:
    """A capability's share of the personal data noc holds; subclasses override what applies to them.

    Every method runs in the caller's transaction (a session) and must not commit.
    """

    kinds: tuple[DataKind, ...] = ()

    def export(self, session: Session, subscriber_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything held about the subscriber, per kind, as JSON-ready records."""
        return {}

    def audit_objects(self, session: Session, subscriber_ids: Collection[int]) -> set[tuple[str, str]]:
        """(object type, id) of the records it holds of these subscribers that audit entries name (their contracts,
        cases, live sessions): the export shows the entries about them, and retention keeps them under a hold."""
        return set()

    def export_about(self, session: Session, subscriber_id: int,
                     objects: set[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
        """Like :meth:`export`, for a part whose records are about other parts' records (the audit log):
        ``objects`` are the subscriber itself and every part's :meth:`audit_objects` of them."""
        return {}

    def files(self, session: Session, subscriber_id: int) -> list[tuple[str, bytes]]:
        """Files held about the subscriber (name inside the export zip, content)."""
        return []

    def holds(self, session: Session) -> dict[int, list[str]]:
        """Subscribers whose data must be kept now, each with the reasons."""
        return {}

    def erase(self, session: Session, subscriber_id: int) -> dict[str, int]:
        """Delete or anonymise what erasure may take (called only when no hold applies); counts per kind."""
        return {}

    def expire(self, session: Session, expiry: Expiry) -> dict[str, int]:
        """Delete or anonymise what has outlived its retention, never a held subscriber's; counts per kind."""
        return {}
