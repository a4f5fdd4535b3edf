"""A full test run's log holds no secret and no personal value of the test data (issues 9 and 15): every log record
of the session (INFO and above, as operators run noc) is checked as it is emitted; the run fails naming the logger
and the kind of value found. Under pytest-xdist each worker hands its findings to the controller, which fails the
run."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.foundation.helpers import VALID_TAX

NAMES = ("Janez Novak", "Maja Horvat", "New One", "Počasen internet")
"""Subscribers' names (and a complaint's free text) used across the tests."""
FORBIDDEN = {
    "SNMP community": re.compile(re.escape("s3cret-community")),
    "SNMPv3 key": re.compile("authpass123|privpass123"),
    "secret key": re.compile("test-secret-key-0123456789"),
    "API token": re.compile(r"noc_[A-Za-z0-9_-]{40,}"),
    "e-mail address": re.compile(r"[\w.+-]+@example\.(?:si|com|org)"),
    "phone number": re.compile(r"\+386 ?\d{2} ?\d{3} ?\d{3}\b"),
    "tax number": re.compile(rf"\b(?:{VALID_TAX}|87654321|12345678|12345679)\b"),
    "subscriber name": re.compile("|".join(map(re.escape, NAMES))),
}
"""What no log line may carry: the values of the tests' data, and any API token."""
QUIET = ("sqlalchemy", "httpx", "httpcore", "asyncio", "mail")
"""Loggers whose INFO lines are library chatter noc does not turn on in production (SQL with its parameters), and
the test SMTP server's own (aiosmtpd: ``mail.log``): kept at WARNING."""
SHARED = "PYTEST_NOC_LOG_SCAN_DIR"
"""Where xdist workers leave their findings for the controller (set by the controller before workers start)."""


class Scanner(logging.Handler):
    """Checks every record (message, arguments and exception text) against :data:`FORBIDDEN`."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted: scan its parts
            text = f"{record.msg} {record.args}"
        if record.exc_info and record.exc_info[1] is not None:
            text += logging.Formatter().formatException(record.exc_info)
        for kind, pattern in FORBIDDEN.items():
            if pattern.search(text):
                self.found.append(f"{record.name} ({record.levelname}): {kind}")


class LogScan:
    """The pytest plugin: installs the scanner for the session and fails the session on a finding."""

    def __init__(self) -> None:
        self.scanner = Scanner()

    def pytest_configure(self, config: pytest.Config) -> None:
        if not hasattr(config, "workerinput"):
            os.environ[SHARED] = tempfile.mkdtemp(prefix="noc-log-scan-")

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        root = logging.getLogger()
        root.addHandler(self.scanner)
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        logging.getLogger().removeHandler(self.scanner)
        shared = Path(os.environ[SHARED])
        if hasattr(session.config, "workerinput"):  # an xdist worker: the controller reports
            (shared / f"{os.getpid()}.txt").write_text("\n".join(self.scanner.found))
            return
        found = self.scanner.found + [line for file in sorted(shared.glob("*.txt"))
                                      for line in file.read_text().splitlines() if line]
        for file in shared.glob("*.txt"):
            file.unlink()
        shared.rmdir()
        if found:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            lines = sorted(set(found))
            if reporter is not None:
                reporter.write_line("log carried secrets or personal values: " + "; ".join(lines), red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
