"""Tables of speed complaints: measurements, complaint cases, their evidence capture and evidence packs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow

MEDIA = ("lan", "wlan", "mobile", "unknown")
CHANNELS = ("phone", "email", "letter", "in_person", "web")
CASE_STATES = ("open", "decided")
OUTCOMES = ("upheld", "rejected")
REMEDIES = ("lower_package", "fee_reduction", "termination")


class TestId(TypeDecorator[str]):
    """An RMBT test id, ``O`` followed by a lower-case UUID: stored as a native ``uuid`` on PostgreSQL (16 bytes: its
    unique index is smaller and cheaper to fill than one over 37 characters of text, migration 0013), as text
    elsewhere. Python sees the ``O…`` form on both."""

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return value
        return value.removeprefix("O")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return value  # type: ignore[no-any-return]
        return f"O{value}"


class Measurement(Base):
    """One speed test a subscriber made with the regulator's tool (an RMBT open-data record)."""

    __tablename__ = "measurements"
    __table_args__ = (
        one_of("medium", MEDIA, "medium"),
        Index("ix_measurements_subscriber_time", "subscriber_id", "time_utc"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    open_test_uuid: Mapped[str] = mapped_column(TestId(), unique=True)
    time_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    download_kbit: Mapped[int] = mapped_column(Integer)
    upload_kbit: Mapped[int] = mapped_column(Integer)
    ping_ms: Mapped[float] = mapped_column(Float)
    jitter_ms: Mapped[float | None] = mapped_column(Float)
    packet_loss: Mapped[float | None] = mapped_column(Float)
    server_name: Mapped[str] = mapped_column(String(128), default="")
    platform: Mapped[str] = mapped_column(String(64), default="")
    medium: Mapped[str] = mapped_column(String(8))
    source_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the file (or request body) the measurement came in."""
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


OBJECT = "complaint"
"""The audit log's object type of a complaint case."""


class ComplaintCase(Base):
    """A subscriber's speed complaint: its dates and deadlines, the linked record, the decision."""

    __tablename__ = "complaint_cases"
    __table_args__ = (
        one_of("channel", CHANNELS, "channel"),
        one_of("state", CASE_STATES, "state"),
        one_of("outcome", OUTCOMES, "outcome"),
        one_of("remedy", REMEDIES, "remedy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    learned_on: Mapped[date] = mapped_column(Date)
    invoice_date: Mapped[date | None] = mapped_column(Date)
    event_date: Mapped[date | None] = mapped_column(Date)
    lodged_on: Mapped[date] = mapped_column(Date)
    lodging_deadline: Mapped[date] = mapped_column(Date)
    decision_due: Mapped[date] = mapped_column(Date, index=True)
    late_override_reason: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(String(64))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(12))
    remedy: Mapped[str | None] = mapped_column(String(16))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date)
    capture_until: Mapped[datetime] = mapped_column(UTCDateTime)
    capture_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capture_end_reason: Mapped[str] = mapped_column(String(32), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaptureReading(Base):
    """One poll of a complaint subscriber's CPE during the case's evidence capture: graded readings or the error."""

    __tablename__ = "complaint_readings"
    __table_args__ = (Index("ix_complaint_readings_cpe_at", "cpe_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_cases.id", ondelete="CASCADE"), index=True)
    cpe_id: Mapped[int] = mapped_column(ForeignKey("cpes.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    grade: Mapped[str] = mapped_column(String(12))
    readings: Mapped[str] = mapped_column(Text, default="[]")
    """JSON list of every graded reading: rule, measurement, tags, field, value, grade."""
    error: Mapped[str] = mapped_column(Text, default="")


class EvidencePack(Base):
    """A generated evidence pack (zip); stored once and never changed (regenerating makes a new version)."""

    __tablename__ = "evidence_packs"
    __table_args__ = (UniqueConstraint("case_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class PackRelease(Base):
    """A pack handed to the subscriber after their tax number matched."""

    __tablename__ = "evidence_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("evidence_packs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
