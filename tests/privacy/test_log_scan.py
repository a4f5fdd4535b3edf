"""The log scan itself (tests/support/logscan.py): a pytest run whose log carries a test subscriber's personal value
fails naming the logger and the kind of value, also when the line comes from an xdist worker; a clean run passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFTEST = """
from tests.support.logscan import LogScan


def pytest_configure(config):
    config.pluginmanager.register(LogScan(), "noc-logscan")
"""
TESTS = """
import logging


def test_quiet():
    logging.getLogger("noc.quiet").info("subscriber 7 exported")


def test_leaky():
    for line in {lines!r}:
        logging.getLogger("noc.leaky").info(line)
"""
LEAKS = {"e-mail address": "mail to janez.novak@example.si", "phone number": "caller +386 41 123 456",
         "subscriber name": "subscriber Maja Horvat", "tax number": "tax 28159080"}
"""Lines a careless log call could write, by the kind of value the scan must name."""


def run(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_logging.py").write_text(TESTS.format(lines=lines))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           *args, str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("args", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_a_personal_value_in_the_log_fails_the_run(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run(tmp_path, list(LEAKS.values()), *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed" in done.stdout and "log carried secrets or personal values: " in done.stdout, done.stdout
    for kind in LEAKS:
        assert f"noc.leaky (INFO): {kind}" in done.stdout, done.stdout
    assert "noc.quiet" not in done.stdout


def test_a_clean_log_passes(tmp_path: Path) -> None:
    done = run(tmp_path, ["subscriber 7 erased"], "-n", "2")
    assert done.returncode == 0 and "log carried" not in done.stdout, done.stdout + done.stderr
