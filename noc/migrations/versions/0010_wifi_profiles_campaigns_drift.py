"""wifi: SSID profiles, campaigns, per-CPE states, drift

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:57:38.537011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import noc.core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wifi_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ssid", sa.String(length=32), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("radius", sa.JSON(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("vlan", sa.Integer(), nullable=False),
        sa.Column("max_clients", sa.Integer(), nullable=False),
        sa.Column("bandwidth_mbps", sa.Integer(), nullable=False),
        sa.Column("isolation", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "security IN ('open', 'wpa2-psk', 'wpa2-enterprise', 'wpa3-enterprise')",
            name=op.f("ck_wifi_profiles_security"),
        ),
        sa.CheckConstraint("isolation", name=op.f("ck_wifi_profiles_isolation_always_on")),
        sa.CheckConstraint("vlan BETWEEN 1 AND 4094", name=op.f("ck_wifi_profiles_vlan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_wifi_profiles_name")),
    )
    op.create_table(
        "wifi_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("segment_rate", sa.Float(), nullable=False),
        sa.Column("failure_threshold", sa.Float(), nullable=False),
        sa.Column("failure_window", sa.Integer(), nullable=False),
        sa.Column("forgiven", sa.Integer(), nullable=False),
        sa.Column("lease_until", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", noc.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('enable', 'disable')", name=op.f("ck_wifi_campaigns_action")),
        sa.CheckConstraint(
            "state IN ('running', 'paused', 'cancelled', 'completed')", name=op.f("ck_wifi_campaigns_state")
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["wifi_profiles.id"], name=op.f("fk_wifi_campaigns_profile_id_wifi_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_campaigns")),
    )
    with op.batch_alter_table("wifi_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_campaigns_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "wifi_campaign_cpes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("cpe_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("step", sa.String(length=12), nullable=False),
        sa.Column("sets", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("previous", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("updated_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'in_progress', 'done', 'rolled_back', 'skipped', 'failed')",
            name=op.f("ck_wifi_campaign_cpes_state"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["wifi_campaigns.id"],
            name=op.f("fk_wifi_campaign_cpes_campaign_id_wifi_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["cpe_id"], ["cpes.id"], name=op.f("fk_wifi_campaign_cpes_cpe_id_cpes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_campaign_cpes")),
        sa.UniqueConstraint("campaign_id", "cpe_id", name=op.f("uq_wifi_campaign_cpes_campaign_id_cpe_id")),
    )
    with op.batch_alter_table("wifi_campaign_cpes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_campaign_cpes_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wifi_campaign_cpes_cpe_id"), ["cpe_id"], unique=False)

    op.create_table(
        "wifi_drift",
        sa.Column("cpe_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("found_at", noc.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["wifi_campaigns.id"],
            name=op.f("fk_wifi_drift_campaign_id_wifi_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["cpe_id"], ["cpes.id"], name=op.f("fk_wifi_drift_cpe_id_cpes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["wifi_profiles.id"], name=op.f("fk_wifi_drift_profile_id_wifi_profiles")
        ),
        sa.PrimaryKeyConstraint("cpe_id", name=op.f("pk_wifi_drift")),
    )
    with op.batch_alter_table("wifi_drift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wifi_drift_profile_id"), ["profile_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("wifi_drift", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_drift_profile_id"))

    op.drop_table("wifi_drift")
    with op.batch_alter_table("wifi_campaign_cpes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_campaign_cpes_cpe_id"))
        batch_op.drop_index(batch_op.f("ix_wifi_campaign_cpes_campaign_id"))

    op.drop_table("wifi_campaign_cpes")
    with op.batch_alter_table("wifi_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wifi_campaigns_profile_id"))

    op.drop_table("wifi_campaigns")
    op.drop_table("wifi_profiles")
