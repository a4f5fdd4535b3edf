"""Tables of the inventory: who is served, with what, over which devices and segments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow
from noc.inventory.enums import (
    COUNTERS,
    CREDENTIAL_VERSIONS,
    DEVICE_KINDS,
    DIRECTIONS,
    LANGUAGES,
    NOTICE_CATEGORIES,
    SEGMENT_KINDS,
)


class Timestamps:
    """Creation and last-change times."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Credential(Timestamps, Base):
    """SNMP credentials; the community or v3 keys are sealed in ``sealed`` (never stored in clear)."""

    __tablename__ = "snmp_credentials"
    __table_args__ = (one_of("version", CREDENTIAL_VERSIONS, "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[str] = mapped_column(String(8))
    v3_user: Mapped[str | None] = mapped_column(String(64))
    auth_proto: Mapped[str | None] = mapped_column(String(16))
    priv_proto: Mapped[str | None] = mapped_column(String(16))
    sealed: Mapped[str] = mapped_column(Text)


class Package(Timestamps, Base):
    """A service package: advertised, normally available and minimum speeds in Mbit/s."""

    __tablename__ = "packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    download_mbps: Mapped[float] = mapped_column(Float)
    upload_mbps: Mapped[float] = mapped_column(Float)
    normal_download_mbps: Mapped[float] = mapped_column(Float)
    normal_upload_mbps: Mapped[float] = mapped_column(Float)
    min_download_mbps: Mapped[float] = mapped_column(Float)
    min_upload_mbps: Mapped[float] = mapped_column(Float)


class Subscriber(Timestamps, Base):
    """A subscriber and the personal data noc needs to serve them."""

    __tablename__ = "subscribers"
    __table_args__ = (one_of("language", LANGUAGES, "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(2), default="sl")
    tax_number: Mapped[str] = mapped_column(String(16), default="")
    ssid_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_outs: Mapped[list[NotificationOptOut]] = relationship(
        cascade="all, delete-orphan", order_by="NotificationOptOut.category", lazy="selectin"
    )


class NotificationOptOut(Base):
    """A subscriber's refusal of one category of notices, with when it was given."""

    __tablename__ = "notification_opt_outs"
    __table_args__ = (one_of("category", NOTICE_CATEGORIES, "category"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contract(Timestamps, Base):
    """A subscriber's package from a start date (a package change is a new contract row)."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("subscriber_id", "start_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class Device(Timestamps, Base):
    """A network element polled over SNMP: router, CMTS, OLT or switch."""

    __tablename__ = "devices"
    __table_args__ = (one_of("kind", DEVICE_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=161)
    profile: Mapped[str] = mapped_column(String(64), default="if-mib")
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("snmp_credentials.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    max_rows: Mapped[int | None] = mapped_column(Integer)
    """Overrides the profile's row cap of every table walk of this device (None: the profile's)."""
    poll_deadline_s: Mapped[float | None] = mapped_column(Float)
    """Overrides the profile's poll deadline of this device (None: the profile's)."""
    poller_group: Mapped[str] = mapped_column(String(64), default="default", server_default="default", index=True)
    """The poller group (a Celery queue) whose workers poll this device when polling is scaled out."""


class Segment(Timestamps, Base):
    """A part of the network whose occupancy is watched; segments form a tree."""

    __tablename__ = "segments"
    __table_args__ = (one_of("kind", SEGMENT_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    capacity_down_mbps: Mapped[float | None] = mapped_column(Float)
    capacity_up_mbps: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    members: Mapped[list[SegmentMember]] = relationship(
        cascade="all, delete-orphan", order_by="SegmentMember.id", lazy="selectin"
    )


class SegmentMember(Base):
    """An interface whose traffic counts toward a segment in one direction."""

    __tablename__ = "segment_members"
    __table_args__ = (
        one_of("direction", DIRECTIONS, "direction"),
        one_of("counter", COUNTERS, "counter"),
        CheckConstraint("if_index IS NOT NULL OR if_name IS NOT NULL", name="interface"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    direction: Mapped[str] = mapped_column(String(4))
    counter: Mapped[str] = mapped_column(String(3))
    if_index: Mapped[int | None] = mapped_column(Integer)
    if_name: Mapped[str | None] = mapped_column(String(64))


class Cpe(Timestamps, Base):
    """A subscriber's cable modem, ONT or home gateway."""

    __tablename__ = "cpes"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    model: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(64), default="docsis-cm")
    address: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=161)
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("snmp_credentials.id"))
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poller_group: Mapped[str] = mapped_column(String(64), default="default", server_default="default", index=True)
    """The poller group (a Celery queue) whose workers poll this CPE when polling is scaled out."""
