"""A pytest plugin: every log line the test run writes (INFO and above, as operators run noc) is kept and, at the
end, scanned for the test data's personal data: subscribers' names, e-mail addresses, phone and tax numbers. One
found fails the run, naming the line. (Each xdist worker scans its own share.)"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import pytest

NAMES = ("Janez Novak", "Maja Horvat", "New One", "Počasen internet")
"""Subscribers' names (and a complaint's free text) used across the tests."""
PATTERNS = (
    re.compile(r"[\w.+-]+@example\.(?:si|com|org)"),  # test subscribers' e-mail addresses
    re.compile(r"\+386 ?\d{2} ?\d{3} ?\d{3}\b"),  # Slovenian phone numbers as the tests write them
    re.compile(r"\b(?:28159080|87654321|12345678)\b"),  # the tests' tax numbers
    re.compile("|".join(map(re.escape, NAMES))),
)
QUIET = ("sqlalchemy", "httpx", "httpcore", "asyncio", "mail")
"""Loggers whose INFO lines are library chatter noc does not turn on in production (SQL with parameters), and
the test SMTP server's own (aiosmtpd: `mail.log`)."""


class _Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in QUIET:
            return
        try:
            line = self.format(record)
        except Exception:  # a record that cannot be formatted is the logging call's own bug
            return
        if any(p.search(line) for p in PATTERNS) and len(self.found) < 20:
            self.found.append(f"{record.name} {record.levelname}: {line[:300]}")


KEEPER = _Keeper()
SHARED = "PYTEST_NOC_LOG_SCAN_DIR"
"""Where xdist workers leave their findings for the controller (set by the controller before workers start)."""


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        os.environ[SHARED] = tempfile.mkdtemp(prefix="noc-log-scan-")
    root = logging.getLogger()
    root.addHandler(KEEPER)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shared = Path(os.environ[SHARED])
    if hasattr(session.config, "workerinput"):  # an xdist worker: hand the findings to the controller
        (shared / f"{os.getpid()}.txt").write_text("\n".join(KEEPER.found))
        return
    found = KEEPER.found + [line for f in sorted(shared.glob("*.txt")) for line in f.read_text().splitlines() if line]
    for file in shared.glob("*.txt"):
        file.unlink()
    shared.rmdir()
    if found:
        lines = "\n  ".join(found)
        session.config.get_terminal_writer().line(f"personal data in the test run's log:\n  {lines}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
