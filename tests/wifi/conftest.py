"""Fixtures of the Wi-Fi tests: simulated gateways answering SNMPv3 authPriv, an inventory pointing at them
(eligible and ineligible CPEs), the API, and net-snmp's tools to read the gateways independently."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.sim import SimulatedNetwork
from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.security import SYSTEM
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from tests.collectors.sim import netsnmp
from tests.support.api import auth, role_tokens

V3_USER = {"user": "noc-wifi", "auth_proto": "SHA256", "auth_key": "gw-auth-key-1", "priv_proto": "AES",
           "priv_key": "gw-priv-key-1"}
SECURITY = netsnmp.v3("noc-wifi", "SHA-256", "gw-auth-key-1", "AES", "gw-priv-key-1")
PASSPHRASE = "Community-Pass-4242"
PROFILE = {"name": "hotspot", "ssid": "Kabel Hotspot ✓", "security": "wpa2-psk", "passphrase": PASSPHRASE,
           "vlan": 300, "max_clients": 16, "bandwidth_mbps": 20}
W = "1.3.6.1.4.1.4491.2.5.1.1"
PRIMARY_OIDS = [f"{W}.{table}.1.{column}.{row}" for row in (1, 2)
                for table, columns in ((4, (2, 3, 7, 10, 11)), (6, (2, 5, 6, 13, 15, 16)), (7, (2, 4, 5, 10)),
                                       (12, (2,)))
                for column in columns]
"""The subscriber's own SSIDs' objects (rows 1 and 2) compared byte for byte before and after."""


@dataclass(frozen=True)
class Gateway:
    """A CPE of the test inventory: its serial and how the test expects the campaign to treat it."""

    serial: str
    consent: bool = True
    credential: str = "v3"
    faults: tuple[str, ...] = ()
    kind: str = "gateway"


FLEET = [
    Gateway("GW01"), Gateway("GW02"), Gateway("GW03"), Gateway("GW04"),
    Gateway("GW05", consent=False), Gateway("GW06", credential="v2c"), Gateway("GW07", credential="authnopriv"),
    Gateway("CM08", kind="cable_modem"),
    Gateway("GW09", faults=("refuse_sets",)), Gateway("GW10", faults=("silent_on_set",)),
    Gateway("GW11", faults=("drop_isolation",)),
]


def network_config(fleet: list[Gateway]) -> dict[str, Any]:
    agents = []
    for n, gw in enumerate(fleet, 1):
        agent: dict[str, Any] = {"kind": gw.kind, "name": gw.serial, "community": "private",
                                 "mac": f"02:00:00:00:00:{n:02x}", "v3_users": [V3_USER]}
        if gw.kind == "gateway":
            agent["wifi"] = {"ssid": f"Home-{n}", "passphrase": f"subscriber-secret-{n}", "faults": list(gw.faults)}
        agents.append(agent)
    return {"agents": agents}


def inventory(net: SimulatedNetwork, fleet: list[Gateway]) -> dict[str, list[dict[str, Any]]]:
    doc: dict[str, list[dict[str, Any]]] = {
        "credentials": [{"name": "v3", "version": "v3", **V3_USER, "v3_user": V3_USER["user"]},
                        {"name": "v2c", "version": "v2c", "community": "private"},
                        {"name": "authnopriv", "version": "v3", "v3_user": "noc-wifi", "auth_proto": "SHA256",
                         "auth_key": "gw-auth-key-1"}],
        "packages": [{"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10}],
        "segments": [{"name": "agg-1", "kind": "aggregation"}, {"name": "sg-1", "kind": "access", "parent": "agg-1"},
                     {"name": "sg-2", "kind": "access", "parent": "agg-1"}],
        "subscribers": [], "contracts": [], "cpes": [],
    }
    for cred in doc["credentials"]:
        cred.pop("user", None)
    for n, gw in enumerate(fleet, 1):
        host, port, _ = net.endpoint(gw.serial)
        number = f"S-{n}"
        doc["subscribers"].append({"number": number, "username": f"user{n}", "name": f"Naročnik {n}",
                                   "ssid_consent": gw.consent})
        doc["contracts"].append({"subscriber": number, "package": "cable-100", "start_date": "2020-01-01"})
        doc["cpes"].append({"serial": gw.serial, "mac": f"02:00:00:00:00:{n:02x}", "model": "TG3442",
                            "profile": "docsis-gw" if gw.kind == "gateway" else "docsis-cm",
                            "address": host, "port": port, "credential": gw.credential, "subscriber": number,
                            "segment": "sg-1" if n % 2 else "sg-2"})
    return doc


@pytest.fixture
def net() -> Iterator[SimulatedNetwork]:
    with SimulatedNetwork(network_config(FLEET)) as network:
        yield network


def load(rt: Runtime, net: SimulatedNetwork, fleet: list[Gateway]) -> None:
    with rt.db.session() as s:
        import_rows(document_rows("t", inventory(net, fleet)),
                    InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE), rt.events))


@pytest.fixture
def fleet(rt: Runtime, net: SimulatedNetwork) -> SimulatedNetwork:
    """The simulated gateways with the inventory loaded."""
    load(rt, net, FLEET)
    return net


@pytest.fixture
def api(rt: Runtime) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client of the API and the auth header of each role."""
    tokens = role_tokens(rt.db)
    with TestClient(create_app(rt.settings, rt.db, scheduler=False, rt=rt)) as client:
        yield client, {role: auth(token) for role, token in tokens.items()}


def snmpget(net: SimulatedNetwork, name: str, *oids: str) -> list[Any]:
    """net-snmp's snmpget -v3 -l authPriv of ``oids`` on gateway ``name`` (values; None where absent)."""
    return [v.value for v in netsnmp.get(net.endpoint(name), *oids, security=SECURITY)]
