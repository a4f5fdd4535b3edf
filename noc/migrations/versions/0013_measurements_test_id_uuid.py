"""complaints: measurements' test id as a native uuid on PostgreSQL

The unique index over the test id is filled on every imported measurement; over a 16-byte uuid it is smaller and
cheaper than over 37 characters of text (docs/benchmarks.md, speed complaints). The id keeps its ``O`` prefix in
Python (``noc.complaints.models.TestId``). SQLite keeps the text column: nothing changes there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE measurements ALTER COLUMN open_test_uuid TYPE uuid "
                   "USING substr(open_test_uuid, 2)::uuid")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE measurements ALTER COLUMN open_test_uuid TYPE varchar(40) "
                   "USING 'O' || open_test_uuid::text")
