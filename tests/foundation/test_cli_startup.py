"""`noc` starts fast because it imports only what the command runs (timings: benchmarks/startup.py).

Checked by what a command leaves in ``sys.modules``, which does not depend on how busy the machine is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.snmpd import COMMUNITY, Agent

HEAVY = ("sqlalchemy", "fastapi", "starlette", "alembic", "uvicorn", "apscheduler", "httpx", "influxdb_client")
PROBE = """
import contextlib, json, sys
from noc.cli import app
with contextlib.suppress(SystemExit):
    app(sys.argv[1:], standalone_mode=False)
heavy = {heavy!r}
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def loaded_after(cwd: Path, *args: str) -> list[str]:
    """The heavy packages imported by running ``noc *args`` in a fresh interpreter in ``cwd``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_imports_no_framework(tmp_path: Path) -> None:
    assert loaded_after(tmp_path, "--help") == []
    assert loaded_after(tmp_path, "poll", "--help") == []


def test_an_adhoc_poll_imports_no_database_or_web_stack(snmpd: Agent, tmp_path: Path) -> None:
    assert loaded_after(tmp_path, "poll", snmpd.address, "--community", COMMUNITY, "--format", "json") == []
