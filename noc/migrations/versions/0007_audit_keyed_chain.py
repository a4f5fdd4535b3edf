"""audit: keyed hash chain (entries before it stay plain SHA-256, marked unkeyed)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("keyed", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("keyed", server_default=sa.true())


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("keyed")
