"""complaints: measurements, cases, capture readings, evidence packs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:05:45.866023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("learned_on", sa.Date(), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("lodging_deadline", sa.Date(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=False),
        sa.Column("late_override_reason", sa.Text(), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("remedy", sa.String(length=16), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("capture_until", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("capture_ended_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("capture_end_reason", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'email', 'letter', 'in_person', 'web')", name=op.f("ck_complaint_cases_channel")
        ),
        sa.CheckConstraint("outcome IN ('upheld', 'rejected')", name=op.f("ck_complaint_cases_outcome")),
        sa.CheckConstraint(
            "remedy IN ('lower_package', 'fee_reduction', 'termination')", name=op.f("ck_complaint_cases_remedy")
        ),
        sa.CheckConstraint("state IN ('open', 'decided')", name=op.f("ck_complaint_cases_state")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_complaint_cases_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
    )
    with op.batch_alter_table("complaint_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_cases_decision_due"), ["decision_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_cases_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_cases_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("open_test_uuid", sa.String(length=40), nullable=False),
        sa.Column("time_utc", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("download_kbit", sa.Integer(), nullable=False),
        sa.Column("upload_kbit", sa.Integer(), nullable=False),
        sa.Column("ping_ms", sa.Float(), nullable=False),
        sa.Column("jitter_ms", sa.Float(), nullable=True),
        sa.Column("packet_loss", sa.Float(), nullable=True),
        sa.Column("server_name", sa.String(length=128), nullable=False),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("medium", sa.String(length=8), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("medium IN ('lan', 'wlan', 'mobile', 'unknown')", name=op.f("ck_measurements_medium")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_measurements_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
        sa.UniqueConstraint("open_test_uuid", name=op.f("uq_measurements_open_test_uuid")),
    )
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.create_index("ix_measurements_subscriber_time", ["subscriber_id", "time_utc"], unique=False)

    op.create_table(
        "complaint_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("cpe_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.String(length=12), nullable=False),
        sa.Column("readings", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_readings_case_id_complaint_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cpe_id"], ["cpes.id"], name=op.f("fk_complaint_readings_cpe_id_cpes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_readings")),
    )
    with op.batch_alter_table("complaint_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_readings_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_complaint_readings_cpe_at", ["cpe_id", "at"], unique=False)

    op.create_table(
        "evidence_packs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("generated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_evidence_packs_case_id_complaint_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_packs")),
        sa.UniqueConstraint("case_id", "version", name=op.f("uq_evidence_packs_case_id_version")),
    )
    with op.batch_alter_table("evidence_packs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_packs_case_id"), ["case_id"], unique=False)

    op.create_table(
        "evidence_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["evidence_packs.id"],
            name=op.f("fk_evidence_releases_pack_id_evidence_packs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_releases")),
    )
    with op.batch_alter_table("evidence_releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_releases_pack_id"), ["pack_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_releases_pack_id"))

    op.drop_table("evidence_releases")
    with op.batch_alter_table("evidence_packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_packs_case_id"))

    op.drop_table("evidence_packs")
    with op.batch_alter_table("complaint_readings", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_readings_cpe_at")
        batch_op.drop_index(batch_op.f("ix_complaint_readings_case_id"))

    op.drop_table("complaint_readings")
    with op.batch_alter_table("measurements", schema=None) as batch_op:
        batch_op.drop_index("ix_measurements_subscriber_time")

    op.drop_table("measurements")
    with op.batch_alter_table("complaint_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_cases_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_cases_state"))
        batch_op.drop_index(batch_op.f("ix_complaint_cases_decision_due"))

    op.drop_table("complaint_cases")
