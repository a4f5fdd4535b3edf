"""net-snmp's command-line tools as the independent client of the simulator's tests (numeric OIDs, no MIBs)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from typing import Any

Endpoint = tuple[str, int, str]
"""(host, port, community)"""

EXCEPTIONS = {
    "No Such Object available on this agent at this OID": "noSuchObject",
    "No Such Instance currently exists at this OID": "noSuchInstance",
    "No more variables left in this MIB View (It is past the end of the MIB tree)": "endOfMibView",
}
_LINE = re.compile(r"^\.(?P<oid>[0-9.]+) = (?P<rest>.*)$")


@dataclass(frozen=True)
class Var:
    """One printed variable: numeric OID without leading dot, net-snmp's type name, and the value as Python."""

    oid: str
    type: str
    value: Any


class SnmpError(Exception):
    """A net-snmp tool failed; ``reason`` is e.g. 'notWritable' or 'timeout'."""

    def __init__(self, reason: str, output: str) -> None:
        super().__init__(f"{reason}: {output}")
        self.reason = reason
        self.output = output


def _value(rest: str) -> tuple[str, Any]:
    if rest in EXCEPTIONS:
        return EXCEPTIONS[rest], None
    if rest == '""':
        return "STRING", b""
    if rest == "NULL":
        return "NULL", None
    kind, _, text = rest.partition(": ")
    if kind == "Hex-STRING":
        return "STRING", bytes.fromhex(text)
    if kind == "STRING":
        return "STRING", text.strip('"').encode()
    if kind == "Timeticks":
        return kind, int(text.split(")")[0].lstrip("("))
    if kind in ("INTEGER", "Counter32", "Counter64", "Gauge32"):
        return kind, int(text)
    if kind == "OID":
        return kind, text.lstrip(".")
    return kind, text


def parse(output: str) -> list[Var]:
    """Lines of ``-On -Ox`` output (hex strings may continue on following lines)."""
    merged: list[str] = []
    for line in output.splitlines():
        if line.startswith("."):
            merged.append(line.rstrip())
        elif merged and line.strip():
            merged[-1] += " " + line.strip()
    out = []
    for line in merged:
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"unexpected output line {line!r}")
        kind, value = _value(match["rest"].strip())
        out.append(Var(match["oid"], kind, value))
    return out


def v3(user: str, auth: str = "SHA", auth_key: str = "authpass123", priv: str | None = "AES",
       priv_key: str = "privpass123") -> list[str]:
    """net-snmp's SNMPv3 options for a user (authPriv unless ``priv`` is None: authNoPriv)."""
    if priv is None:
        return ["-v3", "-l", "authNoPriv", "-u", user, "-a", auth, "-A", auth_key]
    return ["-v3", "-l", "authPriv", "-u", user, "-a", auth, "-A", auth_key, "-x", priv, "-X", priv_key]


def run(tool: str, endpoint: Endpoint, *args: str, timeout: float = 1.0, retries: int = 1,
        security: list[str] | None = None) -> list[Var]:
    """Run ``tool`` against ``endpoint``; raise ``SnmpError`` on timeouts and error responses. ``security``
    replaces v2c with the endpoint's community (e.g. :func:`v3`)."""
    host, port, community = endpoint
    command = [tool, "-m", "", *(security or ["-v2c", "-c", community]), "-On", "-Ox", "-t", str(timeout),
               "-r", str(retries), f"{host}:{port}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    output = done.stdout + done.stderr
    if "Timeout: No Response" in output:
        raise SnmpError("timeout", output)
    reason = re.search(r"Reason: (?:\()?(\w+)", output)
    if reason:
        raise SnmpError(reason.group(1), output)
    if done.returncode != 0:
        raise SnmpError("failed", output)
    return parse(done.stdout)


def get(endpoint: Endpoint, *oids: str, **kw: Any) -> list[Var]:
    return run("snmpget", endpoint, *oids, **kw)


def get_values(endpoint: Endpoint, *oids: str, **kw: Any) -> list[Any]:
    return [v.value for v in get(endpoint, *oids, **kw)]


def getnext(endpoint: Endpoint, *oids: str, **kw: Any) -> list[Var]:
    return run("snmpgetnext", endpoint, *oids, **kw)


def bulkget(endpoint: Endpoint, *oids: str, non_repeaters: int = 0, max_repetitions: int = 10,
            **kw: Any) -> list[Var]:
    return run("snmpbulkget", endpoint, f"-Cn{non_repeaters}", f"-Cr{max_repetitions}", *oids, **kw)


def walk(endpoint: Endpoint, oid: str = ".1", max_repetitions: int = 25, **kw: Any) -> list[Var]:
    """snmpbulkwalk of a subtree (endOfMibView lines dropped)."""
    return [v for v in run("snmpbulkwalk", endpoint, f"-Cr{max_repetitions}", oid, **kw) if v.type != "endOfMibView"]


def set_(endpoint: Endpoint, *triples: str, **kw: Any) -> list[Var]:
    """``set_(ep, oid, "s", "text", oid2, "i", "1", ...)``."""
    return run("snmpset", endpoint, *triples, **kw)
