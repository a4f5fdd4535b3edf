"""`noc privacy` as an operator runs it: a real process on SQLite and PostgreSQL; bad settings are one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from noc.core.settings import Settings
from tests.foundation.helpers import SMALL_INVENTORY
from tests.foundation.test_cli import noc


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def test_export_erase_retention_and_records(settings: Settings, tmp_path: Path) -> None:
    noc(settings, "db", "upgrade", check=True)
    file = tmp_path / "inventory.yaml"
    file.write_text(yaml.safe_dump(SMALL_INVENTORY, allow_unicode=True))
    noc(settings, "inventory", "import", str(file), check=True)
    name = SMALL_INVENTORY["subscribers"][0]["name"]

    assert "reason" in one_line_error(noc(settings, "privacy", "export", "1"))
    assert "no subscriber with id 999" in one_line_error(noc(settings, "privacy", "erase", "999", "--reason", "r"))
    exported = noc(settings, "privacy", "export", "1", "--reason", "SAR-1", check=True)
    assert json.loads(exported.stdout)["data"]["subscribers"][0]["name"] == name
    archive = tmp_path / "s1.zip"
    noc(settings, "privacy", "export", "1", "--reason", "SAR-1", "--out", str(archive), check=True)
    with zipfile.ZipFile(archive) as z:
        assert json.loads(z.read("export.json"))["subscriber"] == 1

    erased = noc(settings, "privacy", "erase", "1", "--reason", "E-1", check=True)
    assert erased.stdout.startswith("erased subscriber 1: subscribers 1")
    after = json.loads(noc(settings, "privacy", "export", "1", "--reason", "check", check=True).stdout)
    assert name not in json.dumps(after, ensure_ascii=False)
    assert noc(settings, "audit", "verify", check=True).returncode == 0
    assert "measurements 0" in noc(settings, "privacy", "retention", check=True).stdout

    records = noc(settings, "privacy", "records", check=True).stdout
    assert Path(__file__).resolve().parents[2].joinpath("docs", "privacy.md").read_text().startswith(records)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("NOC_RETENTION_DAYS", '{"measurements": ', "NOC_RETENTION_DAYS: not valid JSON"),
    ("NOC_RETENTION_DAYS", '{"measurements": "soon"}', "NOC_RETENTION_DAYS: Input should be a valid integer"),
    ("NOC_API_PORT", "eighty", "NOC_API_PORT: Input should be a valid integer"),
])
def test_a_bad_setting_is_one_line(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    done = subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(tmp_path), "privacy", "records"],
                          capture_output=True, text=True, env={**env, name: value}, timeout=120)
    assert message in one_line_error(done)


def test_an_unknown_retention_kind_is_named(settings: Settings) -> None:
    noc(settings, "db", "upgrade", check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    done = subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(settings.data_dir), "--database-url",
                           settings.resolved_database_url(), "privacy", "retention"], capture_output=True, text=True,
                          env={**env, "NOC_SECRET_KEY": "test-secret-key-0123456789",
                               "NOC_RETENTION_DAYS": '{"measurments": 30}'}, timeout=120)
    assert "retention_days: no data kind measurments" in one_line_error(done)
