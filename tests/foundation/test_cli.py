"""The `noc` command as a user runs it: a real process, real files, SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from noc.core.settings import Settings
from tests.foundation.helpers import SMALL_INVENTORY

NOC = [sys.executable, "-m", "noc"]


def noc(settings: Settings, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `noc` against the test's database and data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env["NOC_SECRET_KEY"] = "test-secret-key-0123456789"
    cmd = [*NOC, "--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url(), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    tables = ["subscribers", "packages", "contracts", "devices", "segments", "segment_members", "cpes",
              "snmp_credentials", "audit_log"]
    with engine.connect() as conn:
        result = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
    engine.dispose()
    return result


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    noc(settings, "db", "upgrade", check=True)
    return settings


def test_commands_refuse_an_unmigrated_database(settings: Settings) -> None:
    done = noc(settings, "audit", "verify")
    assert done.returncode == 1
    assert "`noc db upgrade`" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if settings.resolved_database_url().startswith("sqlite"):  # a missing SQLite file is not created
        assert not Path(settings.resolved_database_url().removeprefix("sqlite:///")).exists()


def test_import_yaml_then_again_is_idempotent(migrated: Settings, tmp_path: Path) -> None:
    file = tmp_path / "inventory.yaml"
    file.write_text(yaml.safe_dump(SMALL_INVENTORY, allow_unicode=True))
    first = noc(migrated, "inventory", "import", str(file), check=True)
    assert "subscribers: 2 created" in first.stdout
    after_first = counts(migrated.resolved_database_url())
    second = noc(migrated, "inventory", "import", str(file), check=True)
    assert "subscribers: 2 unchanged" in second.stdout
    after_second = counts(migrated.resolved_database_url())
    assert after_second["audit_log"] == after_first["audit_log"] + 1  # only the import's own summary entry
    assert {k: v for k, v in after_second.items() if k != "audit_log"} == {
        k: v for k, v in after_first.items() if k != "audit_log"}


def test_bad_rows_are_named_and_nothing_is_written(migrated: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"packages": SMALL_INVENTORY["packages"]}))
    noc(migrated, "inventory", "import", str(good), check=True)
    before = counts(migrated.resolved_database_url())
    doc = copy.deepcopy(SMALL_INVENTORY)
    doc["subscribers"][1]["email"] = "not-an-address"
    doc["subscribers"].append({"number": "S-3", "username": "x", "name": "X", "tax_number": "12345678"})
    doc["cpes"][0]["mac"] = "nonsense"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc, sort_keys=False))
    done = noc(migrated, "inventory", "import", str(bad))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert "bad.yaml subscribers[2]: field 'email': value is not a valid email address" in lines[0]
    assert lines[1].startswith("bad.yaml subscribers[3]: field 'tax_number': not a valid Slovenian tax number")
    assert lines[2] == "bad.yaml cpes[1]: field 'mac': not a MAC address (12 hex digits)"
    assert "3 bad row(s) in bad.yaml; nothing was written" in lines[3]
    assert "Traceback" not in done.stderr
    assert counts(migrated.resolved_database_url()) == before


def test_reference_errors_are_named_too(migrated: Settings, tmp_path: Path) -> None:
    doc = copy.deepcopy(SMALL_INVENTORY)
    doc["cpes"][0]["segment"] = "sg-unknown"
    bad = tmp_path / "refs.yaml"
    bad.write_text(yaml.safe_dump(doc, sort_keys=False))
    done = noc(migrated, "inventory", "import", str(bad))
    assert done.returncode != 0
    assert "refs.yaml cpes[1]: field 'segment': no segment 'sg-unknown'" in done.stderr
    assert counts(migrated.resolved_database_url())["subscribers"] == 0


def test_csv_import_by_file_name_with_members(migrated: Settings, tmp_path: Path) -> None:
    (tmp_path / "devices.csv").write_text("name,kind,address\ncmts-9,cmts,10.0.0.9\n")
    (tmp_path / "segments.csv").write_text(
        "name,kind,parent,members\nagg-9,aggregation,,\nsg-9,access,agg-9,cmts-9 1001 down; cmts-9 Cable1/0-up0 up\n")
    noc(migrated, "inventory", "import", str(tmp_path / "devices.csv"), check=True)
    done = noc(migrated, "inventory", "import", str(tmp_path / "segments.csv"), check=True)
    assert "segments: 2 created" in done.stdout
    assert counts(migrated.resolved_database_url())["segment_members"] == 2
    (tmp_path / "rows.csv").write_text("name,kind,address\ncmts-8,toaster,10.0.0.8\n")
    done = noc(migrated, "inventory", "import", str(tmp_path / "rows.csv"), "--kind", "devices")
    assert done.returncode != 0 and "rows.csv line 2: field 'kind':" in done.stderr


def test_dry_run_writes_nothing(migrated: Settings, tmp_path: Path) -> None:
    file = tmp_path / "inventory.yaml"
    file.write_text(yaml.safe_dump(SMALL_INVENTORY))
    done = noc(migrated, "inventory", "import", str(file), "--dry-run", check=True)
    assert "dry run, nothing written" in done.stdout and "subscribers: 2 created" in done.stdout
    assert counts(migrated.resolved_database_url())["subscribers"] == 0


def test_unreadable_file_is_one_line(migrated: Settings, tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("subscribers: [unclosed")
    done = noc(migrated, "inventory", "import", str(tmp_path / "x.yaml"))
    assert done.returncode == 1 and done.stderr.strip().count("\n") == 0 and "not valid YAML" in done.stderr


def test_user_add_prints_a_token_once_and_stores_its_hash(migrated: Settings) -> None:
    done = noc(migrated, "user", "add", "ana", "--role", "agent", check=True)
    token = done.stdout.strip()
    assert token.startswith("noc_") and len(token) > 40
    engine = sa.create_engine(migrated.resolved_database_url())
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT digest FROM api_tokens"))]
    engine.dispose()
    assert token not in stored and len(stored) == 1
    again = noc(migrated, "user", "add", "ana", "--role", "agent")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_role = noc(migrated, "user", "add", "bob", "--role", "wizard")
    assert bad_role.returncode != 0 and "wizard" in bad_role.stderr
    listed = noc(migrated, "user", "list", check=True)
    assert "ana" in listed.stdout and "agent" in listed.stdout


def test_audit_verify_passes_then_fails_after_sql_edit(migrated: Settings) -> None:
    noc(migrated, "user", "add", "ana", "--role", "agent", check=True)
    noc(migrated, "user", "token", "ana", check=True)
    ok = noc(migrated, "audit", "verify", check=True)
    assert "audit chain intact: 3 entries" in ok.stdout
    engine = sa.create_engine(migrated.resolved_database_url())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2"))
    engine.dispose()
    broken = noc(migrated, "audit", "verify")
    assert broken.returncode == 1
    assert "audit chain broken at entry 2" in broken.stderr


def test_unreachable_database_is_one_line_without_password(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    done = noc(settings, "audit", "verify")
    assert done.returncode == 1 and "hunter2" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_worker_refuses_an_unknown_job_naming_the_option_and_the_jobs(migrated: Settings) -> None:
    done = noc(migrated, "worker", "--job", "maintenance.notices", "--job", "no.such.job")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]  # after the worker's log lines
    assert line.startswith("error: --job: no job no.such.job")
    assert "maintenance.notices" in line and "outbox.dispatch" in line


def test_audit_verify_finds_truncation_after_an_anchor(migrated: Settings) -> None:
    noc(migrated, "user", "add", "ana", "--role", "agent", check=True)
    noc(migrated, "user", "token", "ana", check=True)
    anchored = noc(migrated, "audit", "anchor", check=True)
    assert "anchored: 3 entries" in anchored.stdout
    assert (migrated.data_dir / "audit-anchors.jsonl").exists()
    engine = sa.create_engine(migrated.resolved_database_url())
    with engine.begin() as conn:  # delete the newest entry and wind the head back: the chain alone stays whole
        digest = conn.execute(sa.text("SELECT digest FROM audit_log WHERE seq = 2")).scalar_one()
        conn.execute(sa.text("DELETE FROM audit_log WHERE seq = 3"))
        conn.execute(sa.text("UPDATE audit_head SET seq = 2, digest = :d"), {"d": digest})
    engine.dispose()
    broken = noc(migrated, "audit", "verify")
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert "truncated: the anchor of" in broken.stderr and "saw 3 entries, the log has 2" in broken.stderr
    term = noc(migrated, "audit", "term", "ana@example.si", check=True)
    assert term.stdout.startswith("hmac:") and "ana@" not in term.stdout
