"""The secondary SSID on CLAB-WIFI-MIB, as values: which objects a row has, what a profile wants them to be, what
differs, and the SET that gets from one to the other. Pure: no I/O, so planning, dry runs and verification share
it. The rows come from the device profile's ``secondary_ssid`` mapping (``collectors/snmp/profiles``)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from collectors.snmp.profiles import SecondarySsid
from collectors.snmp.values import Gauge32, Value

ROOT = "1.3.6.1.4.1.4491.2.5.1.1"
COMMIT = f"{ROOT}.1.6.0"
TRUE, FALSE = 1, 2
ACTIVE, CREATE_AND_GO, DESTROY = 1, 4, 6


@dataclass(frozen=True)
class Obj:
    """A column of one of the tables a secondary SSID row spans."""

    name: str
    column: str
    secret: bool = False

    def oid(self, row: int) -> str:
        return f"{self.column}.{row}"


SSID, AP, SEC, POLICY = f"{ROOT}.4.1", f"{ROOT}.6.1", f"{ROOT}.7.1", f"{ROOT}.12.1"
ROW_STATUS = {"ssid": Obj("ssid_row", f"{SSID}.11"), "ap": Obj("ap_row", f"{AP}.13"),
              "security": Obj("security_row", f"{SEC}.11")}
"""RowStatus columns, in the order rows are created (SSID first: the policy row follows it)."""
OBJECTS = [
    Obj("ssid_enable", f"{SSID}.2"), Obj("lower_layers", f"{SSID}.7"), Obj("ssid", f"{SSID}.10"),
    Obj("ap_enable", f"{AP}.2"), Obj("ssid_reference", f"{AP}.5"), Obj("advertised", f"{AP}.6"),
    Obj("isolation", f"{AP}.15"), Obj("max_clients", f"{AP}.16"),
    Obj("security_mode", f"{SEC}.2"), Obj("pre_shared_key", f"{SEC}.4", secret=True),
    Obj("passphrase", f"{SEC}.5", secret=True), Obj("radius_addr_type", f"{SEC}.7"),
    Obj("radius_addr", f"{SEC}.8"), Obj("radius_port", f"{SEC}.9"),
    Obj("radius_secret", f"{SEC}.10", secret=True),
    Obj("radius2_addr", f"{SEC}.19"), Obj("radius2_port", f"{SEC}.20"),
    Obj("radius2_secret", f"{SEC}.21", secret=True),
    Obj("bandwidth_mbps", f"{POLICY}.2"),
]
"""The writable objects of a secondary SSID row, in SET order."""
PRIMARY = [Obj("ssid_enable", f"{SSID}.2"), Obj("bands", f"{SSID}.7"), Obj("ssid", f"{SSID}.10"),
           Obj("ssid_row", f"{SSID}.11"), Obj("ap_enable", f"{AP}.2"), Obj("isolation", f"{AP}.15"),
           Obj("security_mode", f"{SEC}.2"), Obj("pre_shared_key", f"{SEC}.4", secret=True),
           Obj("passphrase", f"{SEC}.5", secret=True), Obj("radius_secret", f"{SEC}.10", secret=True)]
"""What the primary SSID's fingerprint covers: name, enable, bands, security, and the keys' presence only."""

Row = dict[str, Value]
"""A row's objects by name (absent objects left out)."""


@dataclass(frozen=True)
class Radius:
    host: str
    port: int
    secret: str


@dataclass(frozen=True)
class Wanted:
    """What an SSID profile asks of a secondary SSID row (secrets in clear: only in memory while writing)."""

    ssid: str
    security_mode: int
    passphrase: str
    radius: tuple[Radius, ...]
    vlan: int
    max_clients: int
    bandwidth_mbps: int


def read_oids(mapping: SecondarySsid) -> list[str]:
    """Every OID a campaign reads from a gateway: the secondary rows' objects and the primary fingerprint's."""
    oids = [obj.oid(row.id) for row in mapping.rows for obj in (*ROW_STATUS.values(), *OBJECTS)]
    return oids + [obj.oid(i) for i in mapping.primary for obj in PRIMARY]


def secondary_rows(mapping: SecondarySsid, values: Mapping[str, Value]) -> dict[int, Row]:
    """The secondary rows that exist (any of their RowStatus objects answers), by row id."""
    out: dict[int, Row] = {}
    for row in mapping.rows:
        if not any(status.oid(row.id) in values for status in ROW_STATUS.values()):
            continue
        out[row.id] = {o.name: values[o.oid(row.id)] for o in (*ROW_STATUS.values(), *OBJECTS)
                       if o.oid(row.id) in values}
    return out


def fingerprint(mapping: SecondarySsid, values: Mapping[str, Value]) -> str:
    """SHA-256 over the primary SSIDs' objects, secrets by presence only (the fingerprint reveals no key)."""
    digest = hashlib.sha256()
    for i in mapping.primary:
        for obj in PRIMARY:
            value = values.get(obj.oid(i))
            shown = bool(value) if obj.secret else value
            digest.update(f"{i}|{obj.name}|{type(shown).__name__}|{shown!r}\n".encode())
    return digest.hexdigest()


def target_row(mapping: SecondarySsid, row_id: int, radio: int, wanted: Wanted) -> Row:
    """The objects of secondary row ``row_id`` (on ``radio``) as the profile wants them; isolation always on. A
    passphrase of 64 hex digits is the pre-shared key itself (clabWIFIAccessPointSecurityPreSharedKey)."""
    first = wanted.radius[0] if wanted.radius else None
    second = wanted.radius[1] if len(wanted.radius) > 1 else None
    psk = len(wanted.passphrase) == 64
    return {
        "ssid_row": ACTIVE, "ap_row": ACTIVE, "security_row": ACTIVE,
        "ssid_enable": TRUE, "lower_layers": mapping.lower_layers.format(radio=radio, vlan=wanted.vlan).encode(),
        "ssid": wanted.ssid.encode(), "ap_enable": TRUE, "ssid_reference": Gauge32(row_id), "advertised": TRUE,
        "isolation": TRUE, "max_clients": Gauge32(wanted.max_clients), "security_mode": wanted.security_mode,
        "pre_shared_key": bytes.fromhex(wanted.passphrase) if psk else b"",
        "passphrase": b"" if psk else wanted.passphrase.encode(),
        "radius_addr_type": _addr_type(first.host if first else None),
        "radius_addr": (first.host if first else "").encode(), "radius_port": Gauge32(first.port if first else 1812),
        "radius_secret": (first.secret if first else "").encode(),
        "radius2_addr": (second.host if second else "").encode(),
        "radius2_port": Gauge32(second.port if second else 1812),
        "radius2_secret": (second.secret if second else "").encode(),
        "bandwidth_mbps": Gauge32(wanted.bandwidth_mbps),
    }


def _addr_type(host: str | None) -> int:
    """InetAddressType: ipv4(1), ipv6(2); ipv4 when there is no server (the agent's default)."""
    return 2 if host is not None and ipaddress.ip_address(host).version == 6 else 1


def targets(mapping: SecondarySsid, wanted: Wanted | None) -> dict[int, Row]:
    """Every secondary row as wanted; ``None`` (disable): no rows."""
    if wanted is None:
        return {}
    return {row.id: target_row(mapping, row.id, row.radio, wanted) for row in mapping.rows}


@dataclass(frozen=True)
class Change:
    """One object that differs: row id, object name, OID, before and after (secrets as presence only)."""

    row: int
    name: str
    oid: str
    before: object
    after: object

    def shown(self) -> dict[str, object]:
        return {"row": self.row, "object": self.name, "oid": self.oid, "before": self.before, "after": self.after}


def _show(obj: Obj, value: Value | None) -> object:
    if value is None:
        return None
    if obj.secret:
        return "<set>" if value else "<empty>"
    return value.decode(errors="replace") if isinstance(value, bytes) else int(value) if isinstance(value, int) \
        else str(value)


def changes(mapping: SecondarySsid, current: Mapping[int, Row], wanted: Mapping[int, Row]) -> list[Change]:
    """What differs between the rows as they are and as wanted (row creation and removal included); a secret
    that differs shows only whether it is set."""
    out: list[Change] = []
    for row in mapping.rows:
        have, want = current.get(row.id), wanted.get(row.id)
        if have is None and want is None:
            continue
        if have is None or want is None:
            out.append(Change(row.id, "row", ROW_STATUS["ssid"].oid(row.id), "absent" if have is None else "present",
                              "present" if want is not None else "absent"))
        for obj in OBJECTS:
            if want is not None and obj.name in want and (have or {}).get(obj.name) != want[obj.name]:
                out.append(Change(row.id, obj.name, obj.oid(row.id), _show(obj, (have or {}).get(obj.name)),
                                  _show(obj, want[obj.name])))
    return out


def set_request(mapping: SecondarySsid, current: Mapping[int, Row],
                wanted: Mapping[int, Row]) -> list[tuple[str, Value]]:
    """One SET taking the secondary rows from ``current`` to ``wanted``, ending with the commit: rows created
    (createAndGo) or destroyed as needed, only differing objects written. Empty when nothing differs."""
    varbinds: list[tuple[str, Value]] = []
    for row in mapping.rows:
        have, want = current.get(row.id) or {}, wanted.get(row.id) or {}
        for status in ROW_STATUS.values():
            if status.name in have and status.name not in want:
                varbinds.append((status.oid(row.id), DESTROY))
            elif status.name in want and status.name not in have:
                varbinds.append((status.oid(row.id), CREATE_AND_GO))
        varbinds += [(obj.oid(row.id), want[obj.name]) for obj in OBJECTS
                     if obj.name in want and have.get(obj.name) != want[obj.name]]
    return [*varbinds, (COMMIT, TRUE)] if varbinds else []


def writes_secret(request: Sequence[tuple[str, Value]]) -> bool:
    """Whether a SET carries a secret object (then only SNMPv3 authPriv may carry it)."""
    secret_columns = tuple(f"{obj.column}." for obj in OBJECTS if obj.secret)
    return any(oid.startswith(secret_columns) and value for oid, value in request)
