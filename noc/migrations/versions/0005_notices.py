"""maintenance notices: window kinds, impact, descriptions, emergency, sequence; notices; outbox topics and
withdrawn messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=8), server_default="planned", nullable=False))
        batch_op.add_column(sa.Column("impact", sa.String(length=8), server_default="outage", nullable=False))
        batch_op.add_column(sa.Column("description_sl", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("description_en", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
        batch_op.alter_column("ends_at", existing_type=noc.core.db.UTCDateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(batch_op.f("ck_maintenance_windows_kind"), "kind IN ('planned', 'outage')")
        batch_op.create_check_constraint(batch_op.f("ck_maintenance_windows_impact"),
                                         "impact IN ('outage', 'degraded')")

    op.create_table(
        "maintenance_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=8), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("opted_out", sa.Integer(), nullable=False),
        sa.Column("no_email", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('announcement', 'reminder', 'update', 'cancellation', 'completion', 'outage_start', "
            "'outage_resolved')",
            name=op.f("ck_maintenance_notices_kind"),
        ),
        sa.CheckConstraint("audience IN ('affected', 'reached', 'dropped')",
                           name=op.f("ck_maintenance_notices_audience")),
        sa.ForeignKeyConstraint(["window_id"], ["maintenance_windows.id"],
                                name=op.f("fk_maintenance_notices_window_id_maintenance_windows"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_notices")),
        sa.UniqueConstraint("window_id", "kind", "sequence",
                            name=op.f("uq_maintenance_notices_window_id_kind_sequence")),
    )
    with op.batch_alter_table("maintenance_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_notices_window_id"), ["window_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_maintenance_notices_queued_at"), ["queued_at"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=120), nullable=True))
        batch_op.alter_column("state", existing_type=sa.String(length=8), type_=sa.String(length=12),
                              existing_nullable=False)
        batch_op.drop_constraint(batch_op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_state"),
                                         "state IN ('pending', 'sent', 'dead', 'withdrawn')")
        batch_op.create_index("ix_outbox_topic_state", ["topic", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_topic_state")
        batch_op.drop_constraint(batch_op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_state"), "state IN ('pending', 'sent', 'dead')")
        batch_op.alter_column("state", existing_type=sa.String(length=12), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.drop_column("topic")

    with op.batch_alter_table("maintenance_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_notices_queued_at"))
        batch_op.drop_index(batch_op.f("ix_maintenance_notices_window_id"))
    op.drop_table("maintenance_notices")

    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_maintenance_windows_impact"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_maintenance_windows_kind"), type_="check")
        batch_op.alter_column("ends_at", existing_type=noc.core.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.drop_column("sequence")
        batch_op.drop_column("emergency")
        batch_op.drop_column("description_en")
        batch_op.drop_column("description_sl")
        batch_op.drop_column("impact")
        batch_op.drop_column("kind")
