"""foundation: auth, audit, inventory

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:15:12.727646
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The audit chain starts from a genesis digest; every append updates this one row.
    op.execute("INSERT INTO audit_head (id, seq, digest) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_digest", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("download_mbps", sa.Float(), nullable=False),
        sa.Column("upload_mbps", sa.Float(), nullable=False),
        sa.Column("normal_download_mbps", sa.Float(), nullable=False),
        sa.Column("normal_upload_mbps", sa.Float(), nullable=False),
        sa.Column("min_download_mbps", sa.Float(), nullable=False),
        sa.Column("min_upload_mbps", sa.Float(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("code", name=op.f("uq_packages_code")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("capacity_down_mbps", sa.Float(), nullable=True),
        sa.Column("capacity_up_mbps", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('access', 'aggregation', 'core', 'international')", name=op.f("ck_segments_kind")),
        sa.ForeignKeyConstraint(["parent_id"], ["segments.id"], name=op.f("fk_segments_parent_id_segments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segments_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "snmp_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("v3_user", sa.String(length=64), nullable=True),
        sa.Column("auth_proto", sa.String(length=16), nullable=True),
        sa.Column("priv_proto", sa.String(length=16), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("version IN ('v2c', 'v3')", name=op.f("ck_snmp_credentials_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snmp_credentials")),
        sa.UniqueConstraint("name", name=op.f("uq_snmp_credentials_name")),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("tax_number", sa.String(length=16), nullable=False),
        sa.Column("ssid_consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("language IN ('sl', 'en')", name=op.f("ck_subscribers_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("number", name=op.f("uq_subscribers_number")),
        sa.UniqueConstraint("username", name=op.f("uq_subscribers_username")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'noc_engineer', 'agent', 'complaint_handler', 'viewer')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name=op.f("fk_contracts_package_id_packages")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_contracts_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("subscriber_id", "start_date", name=op.f("uq_contracts_subscriber_id_start_date")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_package_id"), ["package_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "cpes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["snmp_credentials.id"], name=op.f("fk_cpes_credential_id_snmp_credentials")
        ),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"], name=op.f("fk_cpes_segment_id_segments")),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"], name=op.f("fk_cpes_subscriber_id_subscribers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpes")),
        sa.UniqueConstraint("mac", name=op.f("uq_cpes_mac")),
        sa.UniqueConstraint("serial", name=op.f("uq_cpes_serial")),
    )
    with op.batch_alter_table("cpes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpes_segment_id"), ["segment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cpes_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('router', 'cmts', 'olt', 'switch')", name=op.f("ck_devices_kind")),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["snmp_credentials.id"], name=op.f("fk_devices_credential_id_snmp_credentials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("name", name=op.f("uq_devices_name")),
    )
    op.create_table(
        "notification_opt_outs",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('maintenance', 'network_issues')", name=op.f("ck_notification_opt_outs_category")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_notification_opt_outs_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "category", name=op.f("pk_notification_opt_outs")),
    )
    op.create_table(
        "segment_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("counter", sa.String(length=3), nullable=False),
        sa.Column("if_index", sa.Integer(), nullable=True),
        sa.Column("if_name", sa.String(length=64), nullable=True),
        sa.CheckConstraint("counter IN ('in', 'out')", name=op.f("ck_segment_members_counter")),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_segment_members_direction")),
        sa.CheckConstraint("if_index IS NOT NULL OR if_name IS NOT NULL", name=op.f("ck_segment_members_interface")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_segment_members_device_id_devices")),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_members_segment_id_segments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_members")),
    )
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_members_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_segment_members_segment_id"), ["segment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_members_segment_id"))
        batch_op.drop_index(batch_op.f("ix_segment_members_device_id"))

    op.drop_table("segment_members")
    op.drop_table("notification_opt_outs")
    op.drop_table("devices")
    with op.batch_alter_table("cpes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpes_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_cpes_segment_id"))

    op.drop_table("cpes")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_package_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("subscribers")
    op.drop_table("snmp_credentials")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segments_parent_id"))

    op.drop_table("segments")
    op.drop_table("packages")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    op.drop_table("audit_head")
