"""Campaigns against simulated gateways over SNMPv3 authPriv, read back independently with net-snmp's snmpget:
dry run, provisioning with isolation on and the primary SSID byte for byte unchanged, ineligible CPEs untouched,
refused SETs and silent gateways, rollback, idempotent re-runs, removal, drift, pause on failures, cancel."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from collectors.sim import SimulatedNetwork
from noc.audit.models import AuditEntry
from noc.core.capability import Runtime
from noc.core.db import utcnow
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.wifi.drift import check_drift
from noc.wifi.models import Campaign
from noc.wifi.runner import Runner, run_campaign
from noc.wifi.service import SECRETS_PURPOSE
from tests.collectors.sim import netsnmp
from tests.wifi.conftest import FLEET, PASSPHRASE, PRIMARY_OIDS, PROFILE, SECURITY, W, snmpget

Api = tuple[TestClient, dict[str, dict[str, str]]]
GATEWAYS = [gw.serial for gw in FLEET if gw.kind == "gateway"]
ROW3 = [f"{W}.4.1.10.3", f"{W}.4.1.7.3", f"{W}.6.1.15.3", f"{W}.6.1.16.3", f"{W}.7.1.2.3", f"{W}.7.1.5.3",
        f"{W}.12.1.2.3", f"{W}.6.1.5.3", f"{W}.4.1.3.3"]


@pytest.fixture(autouse=True)
def quick(rt: Runtime) -> None:
    rt.settings.snmp_timeout_s = 0.4
    rt.settings.snmp_retries = 1


def run(rt: Runtime, campaign_id: int) -> dict[str, int] | None:
    return run_campaign(rt.db, rt.settings, campaign_id, credentials=rt.secret_box(CREDENTIALS_PURPOSE),
                        secrets=rt.secret_box(SECRETS_PURPOSE))


def start(api: Api, **body: Any) -> dict[str, Any]:
    client, headers = api
    answer = client.post("/api/v1/wifi/campaigns", json={"profile": "hotspot", "action": "enable", **body},
                         headers=headers["noc_engineer"])
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def show(api: Api, campaign_id: int, **params: Any) -> dict[str, Any]:
    client, headers = api
    answer = client.get(f"/api/v1/wifi/campaigns/{campaign_id}", params={"limit": 500, **params},
                        headers=headers["noc_engineer"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def by_serial(campaign: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cpe["serial"]: cpe for cpe in campaign["cpes"]}


def wifi_sets(net: SimulatedNetwork, serial: str) -> int:
    return int(net.agent(serial).state.wifi.sets)


@pytest.fixture
def profile(api: Api) -> None:
    client, headers = api
    assert client.post("/api/v1/wifi/profiles", json=PROFILE, headers=headers["noc_engineer"]).status_code == 201


def test_dry_run_then_campaign_against_the_simulated_fleet(rt: Runtime, fleet: SimulatedNetwork, api: Api,
                                                           profile: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    readable = [s for s in GATEWAYS if s != "GW10"]
    before = {serial: snmpget(fleet, serial, *PRIMARY_OIDS) for serial in GATEWAYS}
    assert before["GW01"][:5] == [1, 1, b"Device.WiFi.Radio.1", b"Home-1", 1] and None not in before["GW01"]

    client, headers = api
    eligibility = client.get("/api/v1/wifi/profiles/hotspot/eligibility", headers=headers["noc_engineer"]).json()
    assert eligibility["eligible"] == 7 and eligibility["ineligible"] == 4
    assert {"serial": "GW06", "reason": "reachable only over SNMPv2c: secrets are written only over SNMPv3 "
                                        "authPriv"} in eligibility["items"]
    removal = client.get("/api/v1/wifi/profiles/hotspot/eligibility", params={"action": "disable", "segment": "sg-1"},
                         headers=headers["noc_engineer"]).json()
    assert "GW05" not in [i["serial"] for i in removal["items"]]  # removing needs no consent

    dry = start(api, target={"all": True}, dry_run=True)
    skipped = {c["serial"]: c["reason"] for c in dry["cpes"] if c["state"] == "skipped"}
    assert skipped == {
        "GW05": "the subscriber's contract does not allow a secondary SSID (ssid_consent)",
        "GW06": "reachable only over SNMPv2c: secrets are written only over SNMPv3 authPriv",
        "GW07": "reachable only over authNoPriv: secrets are written only over SNMPv3 authPriv",
        "CM08": "device profile docsis-cm carries no secondary SSID"}
    assert run(rt, dry["id"]) is not None
    planned = by_serial(show(api, dry["id"]))
    gw1 = planned["GW01"]
    assert gw1["state"] == "done" and gw1["reason"].startswith("would change")
    changes = {(c["row"], c["object"]): c for c in gw1["changes"]}
    assert changes[(3, "row")]["after"] == "present" and changes[(4, "row")]["before"] == "absent"
    assert changes[(3, "isolation")]["after"] == 1 and changes[(3, "ssid")]["after"] == "Kabel Hotspot ✓"
    assert changes[(3, "passphrase")]["after"] == "<set>" and changes[(3, "lower_layers")]["oid"] == f"{W}.4.1.7.3"
    assert changes[(4, "lower_layers")]["after"] == "Device.WiFi.Radio.2,Device.Bridging.Bridge.300"
    assert all(wifi_sets(fleet, serial) == 0 for serial in GATEWAYS)  # a dry run writes nothing

    real = start(api, target={"all": True})
    assert real["counts"] == {"pending": 7, "in_progress": 0, "done": 0, "rolled_back": 0, "skipped": 4, "failed": 0}
    counts = run(rt, real["id"])
    assert counts == {"pending": 0, "in_progress": 0, "done": 4, "rolled_back": 2, "skipped": 4, "failed": 1}
    result = by_serial(show(api, real["id"]))
    for serial in ("GW01", "GW02", "GW03", "GW04"):
        assert result[serial]["state"] == "done" and result[serial]["sets"] == 1
        ssid, lower, isolation, max_clients, mode, passphrase, bandwidth, reference, status = snmpget(
            fleet, serial, *ROW3)
        assert (ssid, isolation, max_clients, mode, passphrase, bandwidth, reference, status) == (
            "Kabel Hotspot ✓".encode(), 1, 16, 5, PASSPHRASE.encode(), 20, 3, 1)
        assert lower == b"Device.WiFi.Radio.1,Device.Bridging.Bridge.300"
        assert snmpget(fleet, serial, f"{W}.6.1.15.4", f"{W}.4.1.10.4") == [1, "Kabel Hotspot ✓".encode()]
    for serial in readable:  # the subscriber's own SSIDs: byte for byte as before, on every gateway
        assert snmpget(fleet, serial, *PRIMARY_OIDS) == before[serial], serial
    for serial in ("GW05", "GW06", "GW07"):  # ineligible: never written
        assert wifi_sets(fleet, serial) == 0 and snmpget(fleet, serial, f"{W}.4.1.10.3") == [None]
    assert result["GW09"]["state"] == "rolled_back" and "refused the SET" in result["GW09"]["reason"]
    assert "resourceUnavailable" in result["GW09"]["reason"] and wifi_sets(fleet, "GW09") == 0
    assert result["GW11"]["state"] == "rolled_back" and "isolation (row 3)" in result["GW11"]["reason"]
    assert wifi_sets(fleet, "GW11") == 2 and snmpget(fleet, "GW11", f"{W}.4.1.10.3", f"{W}.6.1.13.3") == [None] * 2
    assert result["GW10"]["state"] == "failed" and "no answer to the SET" in result["GW10"]["reason"]
    fleet.call(setattr, fleet.agent("GW10"), "online", True)  # it comes back: nothing was applied
    assert wifi_sets(fleet, "GW10") == 0 and snmpget(fleet, "GW10", f"{W}.4.1.10.3") == [None]
    assert snmpget(fleet, "GW10", *PRIMARY_OIDS) == before["GW10"]
    with rt.db.read_session() as s:
        audit = [(e.action, e.object_id, str(e.details)) for e in s.scalars(select(AuditEntry))]
    assert sorted(o for a, o, _ in audit if a == "wifi.cpe.change") == ["GW01", "GW02", "GW03", "GW04"]
    assert sorted(o for a, o, _ in audit if a == "wifi.cpe.rolled_back") == ["GW09", "GW11"]
    assert "wifi.campaign.complete" in [a for a, _, _ in audit]
    assert PASSPHRASE not in str(audit) and PASSPHRASE not in caplog.text
    assert "subscriber-secret" not in str(audit) and "subscriber-secret" not in caplog.text
    listed = client.get("/api/v1/wifi/campaigns", headers=headers["noc_engineer"]).json()
    assert [(c["id"], c["dry_run"], c["state"]) for c in listed["items"]] == [(real["id"], False, "completed"),
                                                                              (dry["id"], True, "completed")]
    failed = show(api, real["id"], state="failed", limit=1)
    assert failed["total"] == 1 and [c["serial"] for c in failed["cpes"]] == ["GW10"] and failed["state"] == "completed"


def test_rerun_is_idempotent_disable_removes_and_drift_reprovisions(rt: Runtime, fleet: SimulatedNetwork, api: Api,
                                                                    profile: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("noc.wifi.service.IN_LIST_MAX", 1)  # long lists of serials and ids are matched in Python
    client, headers = api
    first = start(api, target={"cpes": ["GW01", "GW02"]})
    run(rt, first["id"])
    again = start(api, target={"cpes": ["GW01", "GW02"]})
    run(rt, again["id"])
    rerun = by_serial(show(api, again["id"]))
    assert {c["state"] for c in rerun.values()} == {"done"} and {c["sets"] for c in rerun.values()} == {0}
    assert rerun["GW01"]["reason"] == "already as wanted" and wifi_sets(fleet, "GW01") == 1

    removal = start(api, target={"cpes": ["GW01"]}, action="disable")
    run(rt, removal["id"])
    assert by_serial(show(api, removal["id"]))["GW01"]["reason"] == "removed"
    assert snmpget(fleet, "GW01", f"{W}.4.1.10.3", f"{W}.6.1.13.4", f"{W}.7.1.11.3") == [None] * 3
    assert snmpget(fleet, "GW02", f"{W}.4.1.10.3") == ["Kabel Hotspot ✓".encode()]

    # GW02 is factory-reset: its secondary SSID is gone
    netsnmp.set_(fleet.endpoint("GW02"), f"{W}.4.1.11.3", "i", "6", f"{W}.4.1.11.4", "i", "6", f"{W}.1.6.0", "i",
                 "1", security=SECURITY)
    report = check_drift(rt.db, rt.settings, rt.secret_box(CREDENTIALS_PURPOSE), rt.secret_box(SECRETS_PURPOSE))
    assert report == {"checked": 2, "drifted": 1, "unreachable": 0}
    drift = client.get("/api/v1/wifi/drift", headers=headers["noc_engineer"]).json()
    assert [(d["serial"], d["profile"]) for d in drift] == [("GW02", "hotspot")]
    assert "ssid (row 3)" in drift[0]["differences"]
    again = client.post("/api/v1/wifi/drift/reprovision", params={"profile": "hotspot"},
                        headers=headers["noc_engineer"])
    assert again.status_code == 201 and again.json()["target"] == {"cpes": ["GW02"]}
    run(rt, again.json()["id"])
    assert snmpget(fleet, "GW02", f"{W}.4.1.10.3", f"{W}.6.1.15.3") == ["Kabel Hotspot ✓".encode(), 1]
    check_drift(rt.db, rt.settings, rt.secret_box(CREDENTIALS_PURPOSE), rt.secret_box(SECRETS_PURPOSE))
    assert client.get("/api/v1/wifi/drift", headers=headers["noc_engineer"]).json() == []


def test_failures_pause_the_campaign_and_the_operator_resumes_or_cancels(rt: Runtime, fleet: SimulatedNetwork,
                                                                         api: Api, profile: None) -> None:
    client, headers = api
    engineer = headers["noc_engineer"]
    rt.settings.wifi_concurrency, rt.settings.wifi_failure_window, rt.settings.wifi_failure_threshold = 1, 2, 0.25
    campaign = start(api, target={"cpes": ["GW01", "GW02", "GW09", "GW11"]})
    path = f"/api/v1/wifi/campaigns/{campaign['id']}"
    run(rt, campaign["id"])
    paused = show(api, campaign["id"])
    assert paused["state"] == "paused" and "1 of 3 CPEs failed or were rolled back" in paused["reason"]
    assert paused["counts"]["pending"] == 1 and wifi_sets(fleet, "GW11") == 0
    assert run(rt, campaign["id"]) is None  # a paused campaign is not run
    assert client.post(f"{path}/cancel", headers=headers["agent"]).status_code == 403
    clash = client.post("/api/v1/wifi/campaigns", json={"profile": "hotspot", "action": "disable",
                                                        "target": {"cpes": ["GW11", "GW03"]}}, headers=engineer)
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "target"
    assert f"still to be done in campaign {campaign['id']} (e.g. GW11)" in clash.json()["error"]["message"]
    assert start(api, target={"cpes": ["GW11"]}, dry_run=True)["state"] == "running"  # a dry run may look
    resumed = client.post(f"{path}/resume", headers=engineer)
    assert resumed.status_code == 200 and resumed.json()["state"] == "running"
    assert client.post(f"{path}/resume", headers=engineer).status_code == 409
    run(rt, campaign["id"])  # the operator accepted GW09's failure; GW11 fails too and it pauses again
    again = show(api, campaign["id"])
    assert again["state"] == "paused" and again["counts"]["rolled_back"] == 2 and again["counts"]["pending"] == 0
    client.post(f"{path}/resume", headers=engineer)
    run(rt, campaign["id"])
    assert show(api, campaign["id"])["state"] == "completed"

    other = start(api, target={"segment": "sg-2"})
    cancelled = client.post(f"/api/v1/wifi/campaigns/{other['id']}/cancel", headers={**engineer,
                                                                                     "X-Noc-Reason": "wrong SSID"})
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["counts"]["pending"] == 0
    assert {c["reason"] for c in cancelled.json()["cpes"] if c["state"] == "skipped"} >= {"campaign cancelled"}
    bad = client.post("/api/v1/wifi/campaigns", json={"profile": "hotspot", "action": "enable",
                                                      "target": {"cpes": ["NOPE"]}}, headers=engineer)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "target.cpes"
    two = client.post("/api/v1/wifi/campaigns", json={"profile": "hotspot", "action": "enable",
                                                      "target": {"all": True, "segment": "sg-1"}}, headers=engineer)
    assert two.status_code == 422 and two.json()["error"]["field"] == "target"


def test_a_runner_whose_lease_another_took_stops(rt: Runtime, fleet: SimulatedNetwork, api: Api,
                                                  profile: None) -> None:
    campaign = start(api, target={"cpes": ["GW01", "GW02"]})
    first = Runner(rt.db, rt.settings, campaign["id"], credentials=rt.secret_box(CREDENTIALS_PURPOSE),
                   secrets=rt.secret_box(SECRETS_PURPOSE))
    assert first.claim()
    second = Runner(rt.db, rt.settings, campaign["id"], credentials=rt.secret_box(CREDENTIALS_PURPOSE),
                    secrets=rt.secret_box(SECRETS_PURPOSE))
    assert not second.claim()  # the first one's lease is alive
    with rt.db.session() as s:  # ... until it lapses
        s.execute(update(Campaign).where(Campaign.id == campaign["id"]).values(lease_until=utcnow()))
    assert second.claim()
    first.flush()
    assert first.state == "lost"
    assert first.close()["pending"] == 2  # releases nothing of the second one's
    with rt.db.read_session() as s:
        held = s.get(Campaign, campaign["id"])
        assert held is not None and held.holder == second.token and held.lease_until is not None
    assert asyncio.run(second.run())["done"] == 2
    assert wifi_sets(fleet, "GW01") == 1
