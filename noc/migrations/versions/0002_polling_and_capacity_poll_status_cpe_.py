"""polling and capacity: poll status, CPE health, segment rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:54:01.724075
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll_status",
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_ok_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("target_kind IN ('device', 'cpe')", name=op.f("ck_poll_status_target_kind")),
        sa.PrimaryKeyConstraint("target_kind", "target_id", name=op.f("pk_poll_status")),
    )
    op.create_table(
        "segment_latest",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("utilization", sa.Float(), nullable=False),
        sa.Column("bps", sa.Float(), nullable=False),
        sa.Column("capacity_bps", sa.Float(), nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_segment_latest_direction")),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_latest_segment_id_segments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("segment_id", "direction", name=op.f("pk_segment_latest")),
    )
    op.create_table(
        "segment_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("start", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("p95", sa.Float(), nullable=False),
        sa.Column("mean_bps", sa.Float(), nullable=False),
        sa.Column("capacity_bps", sa.Float(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_segment_rollups_direction")),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_rollups_segment_id_segments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_rollups")),
        sa.UniqueConstraint(
            "segment_id", "direction", "start", name=op.f("uq_segment_rollups_segment_id_direction_start")
        ),
    )
    with op.batch_alter_table("segment_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_rollups_segment_id"), ["segment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_segment_rollups_start"), ["start"], unique=False)

    op.create_table(
        "cpe_health",
        sa.Column("cpe_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("grade", sa.String(length=12), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cpe_id"], ["cpes.id"], name=op.f("fk_cpe_health_cpe_id_cpes"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cpe_id", name=op.f("pk_cpe_health")),
    )
    with op.batch_alter_table("cpe_health", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cpe_health_grade"), ["grade"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cpe_health", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cpe_health_grade"))

    op.drop_table("cpe_health")
    with op.batch_alter_table("segment_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_rollups_start"))
        batch_op.drop_index(batch_op.f("ix_segment_rollups_segment_id"))

    op.drop_table("segment_rollups")
    op.drop_table("segment_latest")
    op.drop_table("poll_status")
