"""The demo inventory: ~200 subscribers and CPEs on four access segments, an aggregation, a core and an
international link, as an import document (so the demo goes through the same importer as operators)."""

from __future__ import annotations

import random
from typing import Any

from collectors.sim.demo import V3_USER

FIRST_NAMES = ["Janez", "Marija", "Franc", "Ana", "Ivan", "Maja", "Anton", "Irena", "Marko", "Mojca",
               "Luka", "Nina", "Jože", "Petra", "Matej", "Tanja", "Andrej", "Katja", "Rok", "Eva"]
LAST_NAMES = ["Novak", "Horvat", "Krajnc", "Kovačič", "Zupančič", "Potočnik", "Kovač", "Mlakar", "Kos",
              "Vidmar", "Golob", "Turk", "Božič", "Kralj", "Korošec", "Zupan", "Bizjak", "Hribar"]
ASCII = str.maketrans("čšžćđČŠŽĆĐ", "cszcdCSZCD")

ACCESS_SEGMENTS = [
    # name, device, downstream ifIndex, upstream ifIndex, capacity down/up Mbit/s, CPE model, profile
    ("sg-ljubljana-1", "cmts-1", 1001, 2001, 1600.0, 200.0, "Technicolor TC4400", "docsis-cm"),
    ("sg-ljubljana-2", "cmts-1", 1002, 2002, 1600.0, 200.0, "Arris TG3442", "docsis-gw"),
    ("sg-maribor-1", "cmts-1", 1003, 2003, 1600.0, 200.0, "Arris TG3442", "docsis-gw"),
    ("pon-celje-1", "olt-1", 3001, 3001, 2488.0, 1244.0, "Huawei HG8245H", "gpon-ont"),
]
PACKAGES = [
    {"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10},
    {"code": "cable-250", "name": "Kabel 250/25", "download_mbps": 250, "upload_mbps": 25},
    {"code": "cable-500", "name": "Kabel 500/50", "download_mbps": 500, "upload_mbps": 50},
    {"code": "fibre-1000", "name": "Optika 1000/300", "download_mbps": 1000, "upload_mbps": 300},
]
DEVICE_PORT_BASE = 20161
CPE_PORT_BASE = 30161


def tax_number(rng: random.Random) -> str:
    """A random Slovenian tax number with a valid check digit."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        check = 11 - sum((8 - i) * d for i, d in enumerate(digits)) % 11
        if check != 11:
            return "".join(map(str, digits)) + str(0 if check == 10 else check)


def _cpe_credential(i: int, profile: str) -> str:
    """Gateways are managed over SNMPv3 authPriv, except every tenth (left on v2c: Wi-Fi campaigns skip it)."""
    return "demo-v3" if profile == "docsis-gw" and i % 20 != 1 else "demo-v2c"


def demo_document(subscribers: int = 200, seed: int = 7, device_port_base: int = DEVICE_PORT_BASE,
                  cpe_port_base: int = CPE_PORT_BASE) -> dict[str, list[dict[str, Any]]]:
    """The whole demo inventory as an import document (same shape as a YAML import file); devices and CPEs
    answer on 127.0.0.1 at consecutive ports from the two bases (the simulated network's layout)."""
    rng = random.Random(seed)
    doc: dict[str, list[dict[str, Any]]] = {
        "credentials": [{"name": "demo-v2c", "version": "v2c", "community": "noc-demo"},
                        {"name": "demo-v3", "version": "v3", "v3_user": V3_USER.user,
                         "auth_proto": V3_USER.auth_proto, "auth_key": V3_USER.auth_key,
                         "priv_proto": V3_USER.priv_proto, "priv_key": V3_USER.priv_key}],
        "packages": PACKAGES,
        "devices": [
            {"name": name, "kind": kind, "address": "127.0.0.1", "port": device_port_base + i,
             "credential": "demo-v2c", "profile": "if-mib"}
            for i, (name, kind) in enumerate([("border-1", "router"), ("core-1", "router"), ("agg-1", "router"),
                                              ("cmts-1", "cmts"), ("olt-1", "olt")])
        ],
        "segments": [
            {"name": "intl-transit-1", "kind": "international", "capacity_down_mbps": 10000,
             "capacity_up_mbps": 10000, "description": "International transit link",
             "members": [{"device": "border-1", "if_index": 1, "direction": "down", "counter": "in"},
                         {"device": "border-1", "if_index": 1, "direction": "up", "counter": "out"}]},
            {"name": "core-lj", "kind": "core", "parent": "intl-transit-1", "description": "Core ring",
             "members": [{"device": "core-1", "if_index": 1, "direction": "down", "counter": "in"},
                         {"device": "core-1", "if_index": 1, "direction": "up", "counter": "out"}]},
            {"name": "agg-lj", "kind": "aggregation", "parent": "core-lj", "description": "Aggregation uplink",
             "members": [{"device": "agg-1", "if_index": 1, "direction": "down", "counter": "in"},
                         {"device": "agg-1", "if_index": 1, "direction": "up", "counter": "out"}]},
        ],
        "subscribers": [],
        "contracts": [],
        "cpes": [],
    }
    for name, device, down_if, up_if, cap_down, cap_up, *_ in ACCESS_SEGMENTS:
        doc["segments"].append({
            "name": name, "kind": "access", "parent": "agg-lj",
            "capacity_down_mbps": cap_down, "capacity_up_mbps": cap_up,
            "members": [{"device": device, "if_index": down_if, "direction": "down"},
                        {"device": device, "if_index": up_if, "direction": "up"}],
        })
    for i in range(subscribers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        number = f"S-{100001 + i}"
        segment = ACCESS_SEGMENTS[i % len(ACCESS_SEGMENTS)]
        doc["subscribers"].append({
            "number": number,
            "username": f"{first[0]}{last}{i + 1}".translate(ASCII).lower(),
            "name": f"{first} {last}",
            "phone": f"+386 4{rng.randint(0, 1)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "email": f"{first}.{last}{i + 1}@example.si".translate(ASCII).lower(),
            "language": "en" if i % 10 == 9 else "sl",
            "tax_number": tax_number(rng),
            "ssid_consent": i % 3 != 0,
            "notification_opt_outs": ["maintenance"] if i % 25 == 24 else [],
        })
        package = PACKAGES[3]["code"] if segment[7] == "gpon-ont" else PACKAGES[i % 3]["code"]
        doc["contracts"].append({"subscriber": number, "package": package,
                                 "start_date": f"20{18 + i % 7}-{1 + i % 12:02d}-01"})
        doc["cpes"].append({
            "serial": f"DEMO{i + 1:06d}", "mac": f"02:00:00:00:{(i + 1) >> 8:02x}:{(i + 1) & 0xFF:02x}",
            "model": segment[6], "profile": segment[7], "address": "127.0.0.1", "port": cpe_port_base + i,
            "credential": _cpe_credential(i, segment[7]), "subscriber": number, "segment": segment[0],
        })
    return doc
