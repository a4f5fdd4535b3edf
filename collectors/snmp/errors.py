"""Exceptions of the SNMP client. Messages name the target address, never a community or key."""

from __future__ import annotations

from typing import Any


class SnmpError(Exception):
    """Any failure to complete an SNMP operation against one target (``address`` is host:port)."""

    def __init__(self, address: str, message: str = "") -> None:
        super().__init__(f"{address}: {message}" if message else address)
        self.address = address
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:  # survive pickling (e.g. from worker processes)
        return type(self), (self.address, self.message)


class SnmpTimeout(SnmpError):
    """No (valid) response within the target's timeout and retries.

    Also what a wrong v2c community or a wrong v3 privacy key look like: agents drop such requests.
    """


class SnmpMalformedResponse(SnmpTimeout):
    """Answers came from the target but none could be used (not well-formed BER, an over-long OID, a failed
    MAC, a security level below the request's...); the message says why the last one was dropped."""


class SnmpLimitError(SnmpError):
    """A poll reached one of its limits: a walk's ``max_rows`` (an agent that never ends its table) or, as
    :class:`SnmpDeadlineError`, the device's poll deadline. The message names the table or its column OID."""


class SnmpDeadlineError(SnmpLimitError):
    """The device's poll deadline passed before the poll finished."""


class SnmpAuthError(SnmpError):
    """SNMPv3 USM rejected the request: wrong auth key (wrongDigest), unknown user, security level."""


class SnmpResponseError(SnmpError):
    """The agent answered with a non-zero error-status (``status`` is its RFC 3416 name, e.g.
    "tooBig", "noAccess", "notWritable"; ``index`` the 1-based varbind it refers to, 0 for none)."""

    def __init__(self, address: str, status: str, index: int = 0, oid: str | None = None) -> None:
        where = f" at varbind {index} ({oid})" if oid else f" at varbind {index}" if index else ""
        super().__init__(address, f"agent answered {status}{where}")
        self.status = status
        self.index = index
        self.oid = oid

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.address, self.status, self.index, self.oid)
