"""Runtime settings, read from the environment (prefix ``NOC_``) and an optional ``.env`` file."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from noc.core.errors import NotFound

SECRET_KEY_FILE = "secret.key"
RESERVED = "Reserved (read by a capability not built yet)."
"""Starts the description of a setting a planned capability will read; every other setting is read by the code
(a test checks)."""


class Settings(BaseSettings):
    """Every knob of noc; the README's configuration table documents each one."""

    model_config = SettingsConfigDict(env_prefix="NOC_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".noc"), description="Directory for the SQLite file, spool and secret key.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file noc.db in the data directory."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that encrypts secrets at rest (SNMP credentials) and signs links; default: generated "
        "once into "
        "<data_dir>/secret.key.",
    )
    influx_url: str | None = Field(None, description="InfluxDB 2 URL; unset: the embedded series store.")
    influx_org: str = Field("noc", description="InfluxDB organisation.")
    influx_bucket: str = Field("noc", description="InfluxDB bucket.")
    influx_token: SecretStr | None = Field(None, description="InfluxDB API token.")
    smtp_host: str | None = Field(None, description="SMTP server for outgoing mail (notices); unset: notices are "
                                  "queued but not sent.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name (optional).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (optional).")
    smtp_starttls: bool = Field(False, description="Use STARTTLS on the SMTP connection.")
    smtp_timeout_s: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server at each step.")
    mail_from: str = Field("noc@localhost", description="Sender address of outgoing mail (its domain also names "
                           "Message-IDs and calendar events).")
    mail_rate_per_s: float = Field(10.0, gt=0, description="Pace of outgoing mail, messages per second.")
    mail_dispatch_interval_s: int = Field(10, ge=1, description="Seconds between runs of the mail dispatcher and "
                                          "the notice planner.")
    public_url: str | None = Field(None, description="Base URL of noc's public pages as subscribers reach them "
                                   "(opt-out links in mail); default: http://<api_host>:<api_port>.")
    maintenance_lead_time_h: float = Field(48.0, ge=0, description="Minimum notice of planned works, hours; a "
                                           "window starting sooner needs `emergency` and a reason.")
    maintenance_reminder_h: float = Field(24.0, ge=0, description="Hours before planned works when subscribers "
                                          "are reminded; 0: no reminder.")
    api_host: str = Field("127.0.0.1", description="Address `noc serve` listens on.")
    api_port: int = Field(8000, description="Port `noc serve` listens on.")
    api_threads: int = Field(40, ge=1, le=1000, description="Requests `noc serve` handles at once (worker "
                             "threads; the database pool is sized to match).")
    api_max_body_bytes: int = Field(10_000_000, ge=1024, description="Largest request body the API reads, "
                                    "bytes; larger ones are refused with 413 before they are read.")
    api_auth_failures_per_min: int = Field(30, ge=1, description="Failed authentications a client address may "
                                           "make in a minute before it is answered 429.")
    audit_anchor_file: Path | None = Field(None, description="Append-only file the audit chain's head is anchored "
                                           "to; default: <data_dir>/audit-anchors.jsonl. Keep it off the database "
                                           "host or on append-only storage.")
    audit_anchor_interval_s: int = Field(600, ge=10, description="Seconds between anchors of the audit chain's "
                                         "head (when it moved).")
    audit_anchor_url: str | None = Field(None, description="URL that is also sent each anchor (JSON POST), e.g. "
                                         "a log service or another organisation's notary.")
    timezone: str = Field("Europe/Ljubljana", description="Operator's local time zone (busy hours, deadlines).")
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    poll_segment_interval_s: int = Field(60, ge=5, description="Seconds between polls of segment interfaces.")
    poll_cpe_interval_s: int = Field(900, ge=10, description="Seconds between CPE fleet-health polls.")
    rollup_period_s: int = Field(300, ge=10, description="Length of a segment utilization rollup period.")
    poll_concurrency: int = Field(512, ge=1, description="SNMP requests in flight at once (all devices).")
    snmp_timeout_s: float = Field(2.0, gt=0, description="Seconds to wait for one SNMP answer.")
    snmp_retries: int = Field(1, ge=0, description="Retransmissions after a timeout.")
    poll_shard: str = Field("0/1", pattern=r"^\d+/[1-9]\d*$",
                            description="This worker's share of the CPEs, `i/n` (segments are polled by shard 0).")
    broker_url: SecretStr | None = Field(None, description="Redis URL of the Celery broker that scales polling "
                                         "out to poller-group workers (`noc worker --poller-group`), e.g. "
                                         "`redis://redis:6379/0`; unset: polling runs in-process.")
    broker_prefix: str = Field("noc", pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="Prefix of noc's keys and "
                               "queues on the broker (several deployments may share one Redis).")
    broker_batch_size: int = Field(250, ge=1, le=10_000, description="Targets per batch a scaled-out cycle sends "
                                   "to a poller group's workers.")
    broker_visibility_timeout_s: int = Field(45, ge=5, description="Seconds after which a batch taken by a worker "
                                             "that died is handed to another (keep it below the segment interval).")

    grafana_db_password: SecretStr | None = Field(None, description="Password `noc db upgrade` gives the "
                                                  "PostgreSQL role noc_grafana (Grafana's read-only data source); "
                                                  "unset: the role cannot log in.")

    ticket_webhook_url: str | None = Field(None, description="URL that receives upgrade-ticket events (JSON POST).")
    ticket_webhook_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key signing webhook bodies.")
    capacity_rules_file: Path | None = Field(None, description="YAML of capacity rules per segment kind "
                                             "(default: the built-in 70 % rules); per-segment overrides are "
                                             "checked against it.")
    complaint_profiles_dir: Path | None = Field(None, description="Directory of YAML rule profiles (speed "
                                                "complaints) that replace built-in ones of the same name or add "
                                                "new ones; see docs/complaints.md.")
    complaint_capture_interval_s: int = Field(60, ge=10, description="Seconds between polls of a complaint "
                                              "subscriber's CPE during the case's evidence capture.")
    retention_days: dict[str, int] = Field(default_factory=dict, description="Retention per data kind in days, "
                                           "JSON (e.g. `{\"measurements\": 365}`); unset kinds keep the defaults "
                                           "listed in docs/privacy.md.")
    retention_hour: int = Field(3, ge=0, le=23, description="Local hour at which the daily retention job runs.")
    live_session_minutes: int = Field(30, ge=1, le=120, description="Default length of a live CPE session, "
                                      "minutes (an agent may ask for up to live_session_max_minutes).")
    live_session_max_minutes: int = Field(120, ge=1, le=1440, description="Longest live CPE session, minutes.")
    live_max_sessions: int = Field(100, ge=1, description="Live CPE sessions open at once (all agents); one more "
                                   "is refused with 429.")
    live_reading_interval_s: float = Field(3.0, ge=2, le=5, description="Seconds between readings of a live "
                                           "session's stream.")
    live_timeout_s: float = Field(2.0, gt=0, le=10, description="Seconds a live reading waits for the CPE before "
                                  "it streams no_answer.")
    live_tcp_port: int = Field(7547, ge=1, le=65535, description="CPE management TCP port a live reading probes "
                               "when ICMP echo gets no answer.")
    console_session_h: float = Field(8.0, gt=0, le=24, description="Hours a console sign-in lasts.")
    wifi_concurrency: int = Field(64, ge=1, le=4096, description="CPEs a Wi-Fi campaign works on at once.")
    wifi_segment_rate: float = Field(20.0, gt=0, description="CPEs per second a Wi-Fi campaign starts on one "
                                     "access segment.")
    wifi_failure_threshold: float = Field(0.05, gt=0, le=1, description="Share of failed or rolled-back CPEs "
                                          "among a campaign's first NOC_WIFI_FAILURE_WINDOW that pauses it.")
    wifi_failure_window: int = Field(200, ge=1, description="How many CPEs a campaign's failure rate is judged on.")
    wifi_lease_s: float = Field(30.0, gt=0, description="Seconds a runner holds a Wi-Fi campaign without news; "
                                "then another worker may take it over.")
    wifi_interval_s: int = Field(10, ge=1, description="Seconds between the worker's looks for Wi-Fi campaigns "
                                 "to run.")
    wifi_drift_interval_s: int = Field(86400, ge=60, description="Seconds between drift checks of provisioned "
                                       "secondary SSIDs.")

    def shard(self) -> tuple[int, int]:
        """``poll_shard`` as (index, count)."""
        index, count = (int(part) for part in self.poll_shard.split("/"))
        if index >= count:
            raise ValueError(f"poll_shard {self.poll_shard}: index must be below count")
        return index, count

    def resolved_public_url(self) -> str:
        """The base URL of public pages, without a trailing slash."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    def resolved_anchor_file(self) -> Path:
        """Where the audit chain's anchors are appended."""
        return self.audit_anchor_file or self.data_dir / "audit-anchors.jsonl"

    def resolved_database_url(self) -> str:
        """The configured database URL, or the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'noc.db').resolve()}"

    def resolved_secret_key(self, *, create: bool = True) -> str:
        """The configured secret key, or the one generated once and kept in the data directory.

        With ``create=False`` (read-only commands) a missing key file is an error instead of a new key.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        if not create:
            raise NotFound("data_dir", f"no secret key at {path}: give NOC_SECRET_KEY or the right --data-dir")
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
