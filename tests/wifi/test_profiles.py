"""SSID profiles: validation naming the field, secrets sealed and never shown, isolation always on, roles."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from noc.audit.models import AuditEntry
from noc.core.capability import Runtime
from noc.wifi.models import SsidProfile
from tests.wifi.conftest import PASSPHRASE, PROFILE

Api = tuple[TestClient, dict[str, dict[str, str]]]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"ssid": ""}, "ssid", "1-32 octets"),
    ({"ssid": "č" * 17}, "ssid", "1-32 octets"),  # 17 characters, 34 octets
    ({"ssid": "tab\there"}, "ssid", "control characters"),
    ({"passphrase": "short12"}, "passphrase", "8-63 printable ASCII"),
    ({"passphrase": "g" * 64}, "passphrase", "64 hex digits"),
    ({"passphrase": "geslo-ž-123"}, "passphrase", "printable ASCII"),
    ({"passphrase": None}, "passphrase", "required for wpa2-psk"),
    ({"vlan": 0}, "vlan", "greater than or equal to 1"),
    ({"vlan": 4095}, "vlan", "less than or equal to 4094"),
    ({"isolation": False}, "isolation", "always on"),
    ({"security": "wpa3-enterprise"}, "passphrase", "not used with wpa3-enterprise"),
    ({"security": "wpa2-enterprise", "passphrase": None}, "radius", "at least one server"),
    ({"security": "wpa2-enterprise", "passphrase": None, "radius": [{"host": "radius.example", "secret": "x"}]},
     "radius.0.host", "IPv4 or IPv6"),
    ({"max_clients": 0}, "max_clients", "greater than or equal to 1"),
    ({"bandwidth_mbps": 0}, "bandwidth_mbps", "greater than or equal to 1"),
])
def test_bad_profiles_are_refused_naming_the_field(api: Api, change: dict[str, Any], field: str, words: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    client, headers = api
    engineer = headers["noc_engineer"]
    caplog.set_level(logging.DEBUG)
    answer = client.post("/api/v1/wifi/profiles", json={**PROFILE, **change}, headers=engineer)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert PASSPHRASE not in answer.text and PASSPHRASE not in caplog.text


def test_profile_secrets_are_sealed_and_never_shown(rt: Runtime, api: Api, caplog: pytest.LogCaptureFixture) -> None:
    client, headers = api
    engineer = headers["noc_engineer"]
    caplog.set_level(logging.DEBUG)
    created = client.post("/api/v1/wifi/profiles", json=PROFILE, headers={**engineer, "X-Noc-Reason": "hotspot"})
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["passphrase_set"] is True and shown["isolation"] is True and "passphrase" not in shown
    assert shown["ssid"] == "Kabel Hotspot ✓"
    enterprise = {**PROFILE, "name": "eduroam-like", "security": "wpa2-enterprise", "passphrase": None,
                  "radius": [{"host": "192.0.2.10", "secret": "radius-shared-1"},
                             {"host": "2001:db8::10", "port": 1645, "secret": "radius-shared-2"}]}
    second = client.post("/api/v1/wifi/profiles", json=enterprise, headers=engineer)
    assert second.status_code == 201 and second.json()["radius"] == [{"host": "192.0.2.10", "port": 1812},
                                                                      {"host": "2001:db8::10", "port": 1645}]
    again = client.post("/api/v1/wifi/profiles", json=PROFILE, headers=engineer)
    assert again.status_code == 409 and again.json()["error"]["field"] == "name"
    listed = client.get("/api/v1/wifi/profiles", headers=engineer)
    one = client.get("/api/v1/wifi/profiles/hotspot", headers=engineer)
    with rt.db.read_session() as s:
        stored = s.scalar(select(SsidProfile).where(SsidProfile.name == "hotspot"))
        assert stored is not None and stored.isolation
        audit = " ".join(f"{e.action} {e.details} {e.reason}" for e in s.scalars(select(AuditEntry)))
        sealed = stored.sealed
    for text in (listed.text, one.text, second.text, audit, sealed, caplog.text):
        for secret in (PASSPHRASE, "radius-shared-1", "radius-shared-2"):
            assert secret not in text
    assert "wifi.profile.create" in audit
    assert client.get("/api/v1/wifi/profiles", headers=headers["agent"]).status_code == 403


def test_hex_passphrase_and_open_profiles(api: Api) -> None:
    client, headers = api
    engineer = headers["noc_engineer"]
    psk = client.post("/api/v1/wifi/profiles", json={**PROFILE, "name": "psk", "passphrase": "Ab" * 32},
                      headers=engineer)
    assert psk.status_code == 201, psk.text
    portal = client.post("/api/v1/wifi/profiles", json={**PROFILE, "name": "portal", "security": "open",
                                                        "passphrase": None}, headers=engineer)
    assert portal.status_code == 201 and portal.json()["passphrase_set"] is False
