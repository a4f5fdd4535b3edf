"""Settings: defaults, environment prefix, the generated secret key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from noc.core.settings import Settings


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url() == f"sqlite:///{(tmp_path / 'noc.db').resolve()}"


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NOC_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("NOC_SMTP_PORT", "2525")
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url() == "postgresql+psycopg://u@h/db"
    assert settings.smtp_port == 2525


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).resolved_secret_key()
    second = Settings(data_dir=tmp_path).resolved_secret_key()
    assert first == second and len(first) >= 32
    mode = (tmp_path / "secret.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_secrets_are_hidden_in_repr(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="topsecretvalue", influx_token="influxsecret")
    assert "topsecretvalue" not in repr(settings) and "influxsecret" not in repr(settings)
