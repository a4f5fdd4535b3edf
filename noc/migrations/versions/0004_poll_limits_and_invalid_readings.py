"""per-device poll limits, invalid readings in the poll status

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("max_rows", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("poll_deadline_s", sa.Float(), nullable=True))
    with op.batch_alter_table("poll_status") as batch:
        batch.add_column(sa.Column("invalid_readings", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("invalid_detail", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("poll_status") as batch:
        batch.drop_column("invalid_detail")
        batch.drop_column("invalid_readings")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("poll_deadline_s")
        batch.drop_column("max_rows")
