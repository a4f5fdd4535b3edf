"""live: sessions and their readings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("agent_role", sa.String(length=32), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("cpe_id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=20), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("contact_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opened_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('open', 'closed', 'expired')", name=op.f("ck_live_sessions_state")),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name=op.f("fk_live_sessions_subscriber_id_subscribers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["cpe_id"], ["cpes.id"], name=op.f("fk_live_sessions_cpe_id_cpes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    op.create_index(op.f("ix_live_sessions_agent_id"), "live_sessions", ["agent_id"])
    op.create_index(op.f("ix_live_sessions_subscriber_id"), "live_sessions", ["subscriber_id"])
    op.create_index(op.f("ix_live_sessions_cpe_id"), "live_sessions", ["cpe_id"])
    op.create_index("ix_live_sessions_state_expires", "live_sessions", ["state", "expires_at"])
    op.create_table(
        "live_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("reading", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('ok', 'no_answer')", name=op.f("ck_live_readings_state")),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"],
                                name=op.f("fk_live_readings_session_id_live_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_readings")),
    )
    op.create_index(op.f("ix_live_readings_session_id"), "live_readings", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_live_readings_session_id"), table_name="live_readings")
    op.drop_table("live_readings")
    op.drop_index("ix_live_sessions_state_expires", table_name="live_sessions")
    op.drop_index(op.f("ix_live_sessions_cpe_id"), table_name="live_sessions")
    op.drop_index(op.f("ix_live_sessions_subscriber_id"), table_name="live_sessions")
    op.drop_index(op.f("ix_live_sessions_agent_id"), table_name="live_sessions")
    op.drop_table("live_sessions")
