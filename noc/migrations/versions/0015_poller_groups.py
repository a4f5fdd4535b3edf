"""poller groups of devices and CPEs

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("devices", "cpes")


def upgrade() -> None:
    for table in TABLES:  # a plain ADD COLUMN on SQLite too: the grafana_* views over these tables stay valid
        op.add_column(table, sa.Column("poller_group", sa.String(64), server_default="default", nullable=False))
        op.create_index(f"ix_{table}_poller_group", table, ["poller_group"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_poller_group", table)
        op.drop_column(table, "poller_group")  # SQLite >= 3.35 drops a column in place: views stay valid
