"""A full test run's log holds no secret and no personal value of the test data (issue 9): every log record of
the session is checked as it is emitted; the session fails naming the logger and the kind of value found."""

from __future__ import annotations

import logging
import re

import pytest

from tests.foundation.helpers import VALID_TAX

FORBIDDEN = {
    "SNMP community": re.compile(re.escape("s3cret-community")),
    "SNMPv3 key": re.compile("authpass123|privpass123"),
    "secret key": re.compile("test-secret-key-0123456789"),
    "API token": re.compile(r"noc_[A-Za-z0-9_-]{40,}"),
    "e-mail address": re.compile(re.escape("janez.novak@example.si")),
    "phone number": re.compile(re.escape("+386 41 123 456")),
    "tax number": re.compile(VALID_TAX),
}
"""What no log line may carry: the values of tests/foundation/helpers.py's test data, and any API token."""


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
                self.found.append(f"{record.name} ({record.levelname}): a {kind}")


class LogScan:
    """The pytest plugin: installs the scanner for the session and fails the session on a finding."""

    def __init__(self) -> None:
        self.scanner = Scanner()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        logging.getLogger().addHandler(self.scanner)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        logging.getLogger().removeHandler(self.scanner)
        if self.scanner.found:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            lines = sorted(set(self.scanner.found))
            if reporter is not None:
                reporter.write_line("log carried secrets or personal values: " + "; ".join(lines), red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
