"""capacity tickets, maintenance windows, outbox, segment rules

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:06:53.657302
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_windows_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_maintenance_windows_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'dead')", name=op.f("ck_outbox_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_next_attempt_at", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "maintenance_window_segments",
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_maintenance_window_segments_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_maintenance_window_segments_window_id_maintenance_windows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("window_id", "segment_id", name=op.f("pk_maintenance_window_segments")),
    )
    with op.batch_alter_table("maintenance_window_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_window_segments_segment_id"), ["segment_id"], unique=False)

    op.create_table(
        "upgrade_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=False),
        sa.Column("latest_peak", sa.Float(), nullable=False),
        sa.Column("breach_count", sa.Integer(), nullable=False),
        sa.Column("last_breach_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("predicted_date", sa.Date(), nullable=True),
        sa.Column("opened_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("new_capacity_mbps", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_upgrade_tickets_direction")),
        sa.CheckConstraint("rule IN ('sustained', 'busy_hour_p95', 'forecast')", name=op.f("ck_upgrade_tickets_rule")),
        sa.CheckConstraint(
            "state IN ('open', 'acknowledged', 'in_progress', 'resolved', 'rejected')",
            name=op.f("ck_upgrade_tickets_state"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_upgrade_tickets_segment_id_segments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upgrade_tickets")),
    )
    with op.batch_alter_table("upgrade_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upgrade_tickets_segment_id"), ["segment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upgrade_tickets_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_upgrade_tickets_active",
            ["segment_id", "direction", "rule"],
            unique=True,
            sqlite_where=sa.text("state IN ('open', 'acknowledged', 'in_progress')"),
            postgresql_where=sa.text("state IN ('open', 'acknowledged', 'in_progress')"),
        )

    op.create_table(
        "ticket_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("start", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("p95", sa.Float(), nullable=False),
        sa.Column("capacity_bps", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["upgrade_tickets.id"],
            name=op.f("fk_ticket_evidence_ticket_id_upgrade_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_evidence")),
        sa.UniqueConstraint("ticket_id", "start", name=op.f("uq_ticket_evidence_ticket_id_start")),
    )
    with op.batch_alter_table("ticket_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_evidence_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("rules")

    with op.batch_alter_table("ticket_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_evidence_ticket_id"))

    op.drop_table("ticket_evidence")
    with op.batch_alter_table("upgrade_tickets", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_upgrade_tickets_active",
            sqlite_where=sa.text("state IN ('open', 'acknowledged', 'in_progress')"),
            postgresql_where=sa.text("state IN ('open', 'acknowledged', 'in_progress')"),
        )
        batch_op.drop_index(batch_op.f("ix_upgrade_tickets_state"))
        batch_op.drop_index(batch_op.f("ix_upgrade_tickets_segment_id"))

    op.drop_table("upgrade_tickets")
    with op.batch_alter_table("maintenance_window_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_window_segments_segment_id"))

    op.drop_table("maintenance_window_segments")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_state_next_attempt_at")

    op.drop_table("outbox")
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_starts_at"))
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_ends_at"))

    op.drop_table("maintenance_windows")
