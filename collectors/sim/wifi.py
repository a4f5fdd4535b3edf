"""CableLabs CLAB-WIFI-MIB on a gateway: SSID, access point, security and SSID policy tables, and
clabWIFICommitSettings.

Writable columns hold the configuration (a GET shows a SET at once); read-only status columns (SSID status,
access point status, associated devices) follow the configuration *applied* by the last commit. Rows are
created and destroyed with RowStatus (createAndGo / createAndWait / destroy); the policy table's rows follow
the SSID table's. SETs are checked like an agent built from the MIB would: read-only → notWritable, wrong
ASN.1 type → wrongType, size → wrongLength, range or enumeration → wrongValue, missing row → noCreation.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import cast

from collectors.sim.agent import Agent, GoSilent, SetFailure, SetItem
from collectors.sim.clock import Moment
from collectors.sim.config import WifiConfig
from collectors.sim.smi import Oid, Value
from collectors.snmp.ber import ErrorStatus
from collectors.snmp.values import Gauge32

WIFI: Oid = (1, 3, 6, 1, 4, 1, 4491, 2, 5, 1)
OBJECTS: Oid = (*WIFI, 1)  # clabWIFIObjects
COMMIT_SETTINGS: Oid = (*OBJECTS, 1, 6, 0)
SSID_ENTRY: Oid = (*OBJECTS, 4, 1)
AP_ENTRY: Oid = (*OBJECTS, 6, 1)
SECURITY_ENTRY: Oid = (*OBJECTS, 7, 1)
POLICY_ENTRY: Oid = (*OBJECTS, 12, 1)

TRUE, FALSE = 1, 2
UP, DOWN = 1, 2
AP_DISABLED, AP_ENABLED = 1, 2
WPA2_PERSONAL = 5


class RowStatus(IntEnum):
    ACTIVE = 1
    NOT_IN_SERVICE = 2
    NOT_READY = 3
    CREATE_AND_GO = 4
    CREATE_AND_WAIT = 5
    DESTROY = 6


@dataclass(frozen=True)
class Syntax:
    """What a writable column accepts: INTEGER (``integer``), Unsigned32/Gauge32 (``unsigned``) or OCTET STRING
    (``octets``), with a value range or a set of allowed values (of sizes, for octets)."""

    kind: str
    low: int = 0
    high: int = 2**31 - 1
    allowed: frozenset[int] | None = None

    def check(self, value: Value) -> ErrorStatus | None:
        if self.kind == "octets":
            if type(value) is not bytes:
                return ErrorStatus.WRONG_TYPE
            fits = len(value) in self.allowed if self.allowed is not None else self.low <= len(value) <= self.high
            return None if fits else ErrorStatus.WRONG_LENGTH
        expected = int if self.kind == "integer" else Gauge32
        if type(value) is not expected:
            return ErrorStatus.WRONG_TYPE
        assert isinstance(value, int)
        if self.allowed is not None:
            return None if value in self.allowed else ErrorStatus.WRONG_VALUE
        return None if self.low <= value <= self.high else ErrorStatus.WRONG_VALUE


TRUTH = Syntax("integer", allowed=frozenset({TRUE, FALSE}))
ROW_STATUS = Syntax("integer", allowed=frozenset({1, 2, 4, 5, 6}))
UNSIGNED = Syntax("unsigned", 0, 2**32 - 1)


def text(high: int, low: int = 0) -> Syntax:
    return Syntax("octets", low, high)


Reader = Callable[["Wifi", int, Moment], Value]


@dataclass(frozen=True)
class Column:
    """A writable column (``syntax`` and ``default``) or a read-only one computed by ``read``."""

    sub: int
    name: str
    syntax: Syntax | None = None
    default: Value | None = None
    read: Reader | None = None


@dataclass
class Table:
    name: str
    entry: Oid
    columns: dict[int, Column]
    max_index: int
    row_status: int | None = None
    follows: str | None = None
    rows: dict[int, dict[int, Value]] = field(default_factory=dict)

    def defaults(self) -> dict[int, Value]:
        return {c.sub: c.default for c in self.columns.values() if c.syntax is not None and c.default is not None}


def _ssid_up(w: Wifi, i: int) -> bool:
    row = w.applied["ssid"].get(i)
    return bool(row and row.get(2) == TRUE and row.get(11) == RowStatus.ACTIVE)


def _ap_enabled(w: Wifi, i: int) -> bool:
    row = w.applied["ap"].get(i)
    if not row or row.get(2) != TRUE or row.get(13) != RowStatus.ACTIVE:
        return False
    ssid = w.applied["ssid"].get(cast(int, row.get(5, 0)))
    return bool(ssid and ssid.get(2) == TRUE)


def _ap_devices(w: Wifi, i: int, m: Moment) -> Value:
    return Gauge32(w.associated.get(i, 0) if _ap_enabled(w, i) else 0)


def _ssid_name(w: Wifi, i: int, m: Moment) -> Value:
    radio, extra = (i - 1) % w.radios, (i - 1) // w.radios
    return f"wl{radio}".encode() if extra == 0 else f"wl{radio}.{extra}".encode()


def _ssid_mac(w: Wifi, i: int, m: Moment) -> Value:
    return w.mac[:5] + bytes(((w.mac[5] + 0x10 + i) & 0xFF,))


def _last_change(w: Wifi, i: int, m: Moment) -> Value:
    changed = w.changed_at.get(i)
    return Gauge32(int(m.uptime if changed is None else max(m.elapsed - changed, 0.0)))


def tables() -> dict[str, Table]:
    """Fresh, empty tables with the columns of CLAB-WIFI-MIB the simulator serves."""
    ssid = [
        Column(2, "clabWIFISSIDEnable", TRUTH, FALSE),
        Column(3, "clabWIFISSIDStatus", read=lambda w, i, m: UP if _ssid_up(w, i) else DOWN),
        Column(4, "clabWIFISSIDAlias", text(64), b""),
        Column(5, "clabWIFISSIDName", read=_ssid_name),
        Column(6, "clabWIFISSIDLastChange", read=_last_change),
        Column(7, "clabWIFISSIDLowerLayers", text(1024), b""),
        Column(8, "clabWIFISSIDBSSID", read=_ssid_mac),
        Column(9, "clabWIFISSIDMACAddress", read=_ssid_mac),
        Column(10, "clabWIFISSIDSSID", text(32), b""),
        Column(11, "clabWIFISSIDRowStatus", ROW_STATUS),
    ]
    ap = [
        Column(2, "clabWIFIAccessPointEnable", TRUTH, FALSE),
        Column(3, "clabWIFIAccessPointStatus", read=lambda w, i, m: AP_ENABLED if _ap_enabled(w, i) else AP_DISABLED),
        Column(4, "clabWIFIAccessPointAlias", text(64), b""),
        Column(5, "clabWIFIAccessPointSSIDReference", UNSIGNED, Gauge32(0)),
        Column(6, "clabWIFIAccessPointSSIDAdvertisementEnabled", TRUTH, TRUE),
        Column(8, "clabWIFIAccessPointWMMCapability", read=lambda w, i, m: TRUE),
        Column(10, "clabWIFIAccessPointWMMEnable", TRUTH, TRUE),
        Column(12, "clabWIFIAccessPointAssociatedDeviceNumberOfEntries", read=_ap_devices),
        Column(13, "clabWIFIAccessPointRowStatus", ROW_STATUS),
        Column(15, "clabWIFIAccessPointIsolationEnable", TRUTH, FALSE),
        Column(16, "clabWIFIAccessPointMaxAssociatedDevices", UNSIGNED, Gauge32(0)),
        Column(25, "clabWIFIAccessPointAssociatedDeviceCount", read=_ap_devices),
    ]
    security = [
        Column(1, "clabWIFIAccessPointSecurityModesSupported",
               read=lambda w, i, m: b"None,WPA2-Personal,WPA-WPA2-Personal,WPA2-Enterprise,WPA-WPA2-Enterprise"),
        Column(2, "clabWIFIAccessPointSecurityModeEnabled", Syntax("integer", 1, 9), 1),
        Column(3, "clabWIFIAccessPointSecurityWEPKey", Syntax("octets", allowed=frozenset({0, 5, 13})), b""),
        Column(4, "clabWIFIAccessPointSecurityPreSharedKey", Syntax("octets", allowed=frozenset({0, 32})), b""),
        Column(5, "clabWIFIAccessPointSecurityKeyPassphrase", text(63), b""),
        Column(6, "clabWIFIAccessPointSecurityRekeyingInterval", UNSIGNED, Gauge32(3600)),
        Column(7, "clabWIFIAccessPointSecurityRadiusServerIPAddrType",
               Syntax("integer", allowed=frozenset({0, 1, 2, 3, 4, 16})), 1),
        Column(8, "clabWIFIAccessPointSecurityRadiusServerIPAddr", text(255), b""),
        Column(9, "clabWIFIAccessPointSecurityRadiusServerPort", Syntax("unsigned", 0, 65535), Gauge32(1812)),
        Column(10, "clabWIFIAccessPointSecurityRadiusSecret", text(255), b""),
        Column(11, "clabWIFIAccessPointSecurityRowstatus", ROW_STATUS),
        Column(17, "clabWIFIAccessPointSecurityWPAEncryption", Syntax("integer", allowed=frozenset({1, 2})), 1),
        Column(19, "clabWIFIAccessPointSecuritySecondaryRadiusServerIPAddr", text(255), b""),
        Column(20, "clabWIFIAccessPointSecuritySecondaryRadiusServerPort", Syntax("unsigned", 0, 65535),
               Gauge32(1812)),
        Column(21, "clabWIFIAccessPointSecuritySecondaryRadiusSecret", text(255), b""),
    ]
    policy = [
        Column(1, "clabWIFISSIDPolicyBlockAfterAttempts", UNSIGNED, Gauge32(0)),
        Column(2, "clabWIFISSIDPolicyAllocatedBandwidth", UNSIGNED, Gauge32(0)),
        Column(3, "clabWIFISSIDPolicyAuthenticationFailures", UNSIGNED, Gauge32(0)),
        Column(4, "clabWIFISSIDPolicyNonAuthenticatedTraffic", UNSIGNED, Gauge32(0)),
        Column(5, "clabWIFISSIDPolicyAssociationFailures", UNSIGNED, Gauge32(0)),
    ]
    return {
        "ssid": Table("ssid", SSID_ENTRY, {c.sub: c for c in ssid}, 2**31 - 1, row_status=11),
        "ap": Table("ap", AP_ENTRY, {c.sub: c for c in ap}, 99, row_status=13),
        "security": Table("security", SECURITY_ENTRY, {c.sub: c for c in security}, 99, row_status=11),
        "policy": Table("policy", POLICY_ENTRY, {c.sub: c for c in policy}, 2**31 - 1, follows="ssid"),
    }


class Wifi:
    """The Wi-Fi configuration of one gateway and the ``Writer`` for its MIB subtree."""

    prefix: Oid = WIFI

    def __init__(self, agent: Agent, cfg: WifiConfig, mac: bytes, seed: int) -> None:
        rng = random.Random(f"{seed}:{agent.name}:wifi")
        self.agent = agent
        self.mac = mac
        self.radios = cfg.radios
        self.primary_ssid = cfg.ssid or f"NOC-{mac[4]:02X}{mac[5]:02X}"
        passphrase = cfg.passphrase or "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))
        self.associated = {r: cfg.associated_devices[r - 1] if r <= len(cfg.associated_devices) else 0
                           for r in range(1, cfg.radios + 1)}
        self.tables = tables()
        self._registered: dict[str, set[int]] = {}
        self.applied: dict[str, dict[int, dict[int, Value]]] = {}
        self.changed_at: dict[int, float] = {}
        self.commits = 0
        self.sets = 0
        """SET requests applied to the Wi-Fi subtree (for tests: how often a gateway was written)."""
        self.faults = frozenset(cfg.faults)
        for r in range(1, cfg.radios + 1):
            band = ("2.4GHz", "5GHz", "6GHz")[r - 1]
            self.tables["ssid"].rows[r] = {
                **self.tables["ssid"].defaults(), 2: TRUE, 4: f"primary-{band}".encode(),
                7: f"Device.WiFi.Radio.{r}".encode(), 10: self.primary_ssid.encode(), 11: int(RowStatus.ACTIVE)}
            self.tables["ap"].rows[r] = {**self.tables["ap"].defaults(), 2: TRUE, 5: Gauge32(r),
                                         13: int(RowStatus.ACTIVE)}
            self.tables["security"].rows[r] = {**self.tables["security"].defaults(), 2: cfg.security_mode,
                                               5: passphrase.encode(), 11: int(RowStatus.ACTIVE)}
            self.tables["policy"].rows[r] = self.tables["policy"].defaults()
        self._snapshot()
        self.sync()

    # -- reading ------------------------------------------------------------------------------------------------

    def _snapshot(self) -> None:
        self.applied = {name: {i: dict(row) for i, row in table.rows.items()} for name, table in self.tables.items()}

    def sync(self) -> None:
        """(Re)register the OIDs of the rows created or destroyed since the last call."""
        mib = self.agent.mib
        mib.put(COMMIT_SETTINGS, FALSE)
        for table in self.tables.values():
            registered = self._registered.setdefault(table.name, set())
            for index in registered - table.rows.keys():
                for column in table.columns.values():
                    mib.remove((*table.entry, column.sub, index))
            for index in table.rows.keys() - registered:
                for column in table.columns.values():
                    mib.put_dynamic((*table.entry, column.sub, index), self._reader(table, column, index))
            registered.clear()
            registered.update(table.rows)

    def _reader(self, table: Table, column: Column, index: int) -> Callable[[Moment], Value]:
        if column.read is not None:
            read = column.read
            return lambda m: read(self, index, m)
        sub = column.sub
        return lambda m: table.rows[index][sub]

    def ssids(self) -> list[dict[str, object]]:
        """The applied SSIDs, for tests and demos: id, ssid, enabled, status."""
        return [{"id": i, "ssid": cast(bytes, row.get(10, b"")).decode(errors="replace"), "enabled": row.get(2) == TRUE,
                 "up": _ssid_up(self, i)}
                for i, row in sorted(self.applied["ssid"].items())]

    # -- writing ------------------------------------------------------------------------------------------------

    def _locate(self, oid: Oid) -> tuple[Table, Column, int] | None:
        for table in self.tables.values():
            n = len(table.entry)
            if oid[:n] == table.entry and len(oid) == n + 2:
                column = table.columns.get(oid[n])
                if column is not None:
                    return table, column, oid[n + 1]
        return None

    def plan(self, items: Sequence[SetItem], moment: Moment) -> Callable[[], None]:
        """Validate a SET on the Wi-Fi subtree; the returned change applies it (and commits if asked)."""
        if "silent_on_set" in self.faults:
            raise GoSilent
        commit = False
        staged: dict[str, dict[int, dict[int, Value] | None]] = {name: {} for name in self.tables}

        def current(table: Table, index: int) -> dict[int, Value] | None:
            if index in staged[table.name]:
                return staged[table.name][index]
            row = table.rows.get(index)
            return None if row is None else dict(row)

        located: list[tuple[int, Table, Column, int, Value]] = []
        for position, oid, value in items:
            if oid == COMMIT_SETTINGS:
                if (error := TRUTH.check(value)) is not None:
                    raise SetFailure(error, position)
                commit = commit or value == TRUE
                continue
            found = self._locate(oid)
            if found is None:
                status = ErrorStatus.NOT_WRITABLE if oid in self.agent.mib else ErrorStatus.NO_CREATION
                raise SetFailure(status, position)
            table, column, index = found
            if column.syntax is None:
                raise SetFailure(ErrorStatus.NOT_WRITABLE, position)
            if not 1 <= index <= table.max_index:
                raise SetFailure(ErrorStatus.NO_CREATION, position)
            if (error := column.syntax.check(value)) is not None:
                raise SetFailure(error, position)
            located.append((position, table, column, index, value))
            if "refuse_sets" in self.faults and index > self.radios:
                raise SetFailure(ErrorStatus.RESOURCE_UNAVAILABLE, position)

        for position, table, column, index, value in located:  # row creation and deletion first
            if column.sub != table.row_status:
                continue
            row = current(table, index)
            if value in (RowStatus.CREATE_AND_GO, RowStatus.CREATE_AND_WAIT):
                if row is not None:
                    raise SetFailure(ErrorStatus.INCONSISTENT_VALUE, position)
                state = int(RowStatus.ACTIVE if value == RowStatus.CREATE_AND_GO else RowStatus.NOT_IN_SERVICE)
                staged[table.name][index] = {**table.defaults(), column.sub: state}
            elif value == RowStatus.DESTROY:
                staged[table.name][index] = None
            elif row is None:
                raise SetFailure(ErrorStatus.INCONSISTENT_VALUE, position)
            else:
                row[column.sub] = value
                staged[table.name][index] = row

        for position, table, column, index, value in located:
            if column.sub == table.row_status:
                continue
            row = current(table, index)
            if row is None and table.follows is not None and current(self.tables[table.follows], index) is not None:
                row = table.defaults()
            if row is None:
                raise SetFailure(ErrorStatus.NO_CREATION, position)
            row[column.sub] = value
            staged[table.name][index] = row

        return lambda: self._apply(staged, commit, moment)

    def _apply(self, staged: dict[str, dict[int, dict[int, Value] | None]], commit: bool, moment: Moment) -> None:
        self.sets += 1
        if "drop_isolation" in self.faults:
            for index, row in staged["ap"].items():
                if row is not None and index > self.radios:
                    row[15] = FALSE
        reshaped = False
        for name, rows in staged.items():
            table = self.tables[name]
            for index, row in rows.items():
                if row is None:
                    reshaped |= table.rows.pop(index, None) is not None
                else:
                    reshaped |= index not in table.rows
                    table.rows[index] = row
        ssid_rows, policy = self.tables["ssid"].rows, self.tables["policy"]
        for index in set(policy.rows) - set(ssid_rows):
            del policy.rows[index]
            reshaped = True
        for index in set(ssid_rows) - set(policy.rows):
            policy.rows[index] = policy.defaults()
            reshaped = True
        if reshaped:
            self.sync()
        if commit:
            self.commit(moment)

    def commit(self, moment: Moment) -> None:
        """Apply the configuration (what clabWIFICommitSettings = true does)."""
        before = self.applied.get("ssid", {})
        after = self.tables["ssid"].rows
        for index in set(before) | set(after):
            if before.get(index) != after.get(index):
                self.changed_at[index] = moment.elapsed
        self._snapshot()
        self.commits += 1
