"""grafana: read-only views for the NOC dashboards and the role that reads them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:50:00

The views are what Grafana's PostgreSQL data source sees (docs/operations.md). They hold no personal data:
no subscriber, contract or user columns (names, e-mail addresses, phone and tax numbers, user names), no
free text typed by people (ticket notes, window reasons and descriptions), no outbox destinations, payloads
or errors. On PostgreSQL the role ``noc_grafana`` (NOLOGIN here; ``noc db upgrade`` gives it a password from
``NOC_GRAFANA_DB_PASSWORD``) may select from these views and nothing else.

A later migration that drops or rewrites a column these views read (or, on SQLite, recreates such a table in
batch mode) drops the views first and creates them again afterwards.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

READER = "noc_grafana"

VIEWS = {
    "grafana_segments": """
        SELECT s.id AS segment_id, s.name AS segment, s.kind AS segment_kind, s.parent_id, s.capacity_down_mbps,
               s.capacity_up_mbps
        FROM segments s""",
    "grafana_segment_latest": """
        SELECT l.segment_id, s.name AS segment, s.kind AS segment_kind, l.direction, l.at, l.utilization, l.bps,
               l.capacity_bps
        FROM segment_latest l JOIN segments s ON s.id = l.segment_id""",
    "grafana_segment_rollups": """
        SELECT r.segment_id, s.name AS segment, s.kind AS segment_kind, r.direction, r.start, r.seconds, r.mean,
               r.max, r.p95, r.mean_bps, r.capacity_bps
        FROM segment_rollups r JOIN segments s ON s.id = r.segment_id""",
    "grafana_tickets": """
        SELECT t.id, t.segment_id, s.name AS segment, s.kind AS segment_kind, t.direction, t.rule, t.state,
               t.priority, t.threshold, t.first_value, t.latest_peak, t.breach_count, t.last_breach_at,
               t.predicted_date, t.opened_at, t.updated_at, t.closed_at, t.new_capacity_mbps, t.detail
        FROM upgrade_tickets t JOIN segments s ON s.id = t.segment_id""",
    "grafana_forecasts": """
        SELECT t.id AS ticket_id, t.segment_id, s.name AS segment, s.kind AS segment_kind, t.direction,
               t.predicted_date, t.threshold, t.first_value AS trend_value, t.state, t.opened_at, t.updated_at
        FROM upgrade_tickets t JOIN segments s ON s.id = t.segment_id
        WHERE t.rule = 'forecast' AND t.state IN ('open', 'acknowledged', 'in_progress')
          AND t.predicted_date IS NOT NULL""",
    "grafana_maintenance": """
        SELECT w.id AS window_id, w.kind, w.title, w.impact, w.emergency, w.starts_at, w.ends_at, w.cancelled_at,
               ws.segment_id, s.name AS segment, s.kind AS segment_kind
        FROM maintenance_windows w
        LEFT JOIN maintenance_window_segments ws ON ws.window_id = w.id
        LEFT JOIN segments s ON s.id = ws.segment_id""",
    "grafana_poll_status": """
        SELECT p.target_kind, p.target_id, COALESCE(d.name, c.serial) AS target, p.at, p.ok, p.duration_s,
               p.error, p.consecutive_failures, p.last_ok_at, p.invalid_readings
        FROM poll_status p
        LEFT JOIN devices d ON p.target_kind = 'device' AND d.id = p.target_id
        LEFT JOIN cpes c ON p.target_kind = 'cpe' AND c.id = p.target_id""",
    "grafana_cpes": """
        SELECT c.id, c.serial, c.mac, c.model, c.profile, c.enabled, c.segment_id, s.name AS segment,
               h.grade AS health_grade, h.at AS health_at, h.findings AS health_findings
        FROM cpes c
        LEFT JOIN segments s ON s.id = c.segment_id
        LEFT JOIN cpe_health h ON h.cpe_id = c.id""",
    "grafana_outbox": """
        SELECT o.id, o.channel, o.topic, o.state, o.attempts, o.created_at, o.next_attempt_at, o.sent_at
        FROM outbox o""",
}


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
                CREATE ROLE {READER} NOLOGIN;
            END IF;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {READER}', current_schema());
        END
        $$""")
    op.execute(f"GRANT SELECT ON {', '.join(VIEWS)} TO {READER}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE SELECT ON {', '.join(VIEWS)} FROM {READER}")
        op.execute(f"DO $$ BEGIN EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {READER}', current_schema()); END $$")
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
