"""The three ways to run the network: ``serve`` in asyncio, ``SimulatedNetwork`` in a thread, and the command
line (signals, inventory file, configuration files); and the demo network against noc's demo inventory."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collectors.sim import NetworkConfig, SimulatedNetwork, demo_config, main, serve
from collectors.sim.loadgen import DEFAULT_OIDS, requests
from collectors.sim.message import decode_message
from collectors.sim.responder import answer
from collectors.snmp.ber import PduType
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import SnmpError

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
ROOT = Path(__file__).resolve().parents[3]

EXAMPLE_YAML = """
speed: 60
start: "19:30"
base_port: {port}
agents:
  - kind: cmts
    name: cmts-1
    community: lab
    interfaces:
      - {{index: 1001, name: sg-1-ds, type: docsCableDownstream, speed_mbps: 1600, alias: sg-1,
         outbound: {{kind: climb, start: 0.4, peak: 0.85, ramp_minutes: 10}}}}
  - kind: gateway
    name: gw-1
    community: lab
    faults: [low_snr]
    wifi: {{ssid: Lab-Home}}
fleet:
  count: 3
  community: lab
  faults: {{offline: 1}}
"""


def free_udp_ports(count: int) -> int:
    """A base port with ``count`` consecutive free UDP ports on 127.0.0.1."""
    for _ in range(50):
        base = random.randrange(40000, 60000 - count)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def start_cli(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "collectors.sim", *args], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first.startswith("serving"):
        process.kill()
        raise AssertionError(first + process.communicate()[1])
    return process


@pytest.fixture
def cli_demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, int, Path]]:
    inventory = tmp_path / "inventory.json"
    for attempt in range(5):  # ports found free may be taken by a parallel test before the simulator binds them
        cpe_port, device_port = free_udp_ports(3), free_udp_ports(5)
        try:
            process = start_cli("--cpes", "3", "--base-port", str(cpe_port), "--device-port", str(device_port),
                                "--inventory", str(inventory))
            break
        except AssertionError as exc:
            if "Address already in use" not in str(exc) or attempt == 4:
                raise
    yield process, cpe_port, device_port, inventory
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_in_asyncio_starts_and_stops() -> None:
    config = {"agents": [{"kind": "router", "name": "r1"}]}

    async def scenario() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        net = await serve(config)
        port = net.agent("r1").port
        values = await loop.run_in_executor(None, netsnmp.get_values, net.endpoint("r1"), "1.3.6.1.2.1.2.1.0")
        await net.stop()
        with pytest.raises(SnmpError):
            await loop.run_in_executor(None, lambda: netsnmp.get(("127.0.0.1", port, "public"), SYS_UPTIME,
                                                                 timeout=0.2, retries=0))
        async with await serve({"agents": [{"kind": "router", "name": "again", "port": port}]}) as again:
            assert again.agent("again").port == port  # the socket was released
        return values, port

    values, _ = asyncio.run(scenario())
    assert values == [0]


def test_simulated_network_thread_runs_calls_and_stops() -> None:
    net = SimulatedNetwork({"agents": [{"kind": "cable_modem", "name": "cm"}]})
    with net:
        assert net.call(lambda: net.agent("cm").online) is True
        net.call(net.agent("cm").set_faults, ["offline"])
        with pytest.raises(SnmpError):
            netsnmp.get(net.endpoint("cm"), SYS_UPTIME, timeout=0.2, retries=0)
        inventory = net.inventory()
        assert inventory["agents"][0]["faults"] == ["offline"]
    with pytest.raises(RuntimeError):
        net.endpoint("cm")


def test_cli_serves_the_demo_and_stops_on_sigterm(cli_demo: tuple[subprocess.Popen[str], int, int, Path]) -> None:
    process, cpe_port, device_port, inventory = cli_demo
    (descr,) = netsnmp.get_values(("127.0.0.1", device_port + 3, "noc-demo"), "1.3.6.1.2.1.1.1.0")
    assert b"CMTS" in descr
    (model,) = netsnmp.get_values(("127.0.0.1", cpe_port, "noc-demo"), "1.3.6.1.2.1.1.1.0")
    assert b"MODEL: TC4400" in model
    agents = {a["name"]: a for a in json.loads(inventory.read_text())["agents"]}
    assert agents["cpe-0001"]["port"] == cpe_port and agents["olt-1"]["port"] == device_port + 4
    assert agents["cpe-0002"]["wifi"]["radios"] == 2
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopped" in out


def test_cli_stops_on_sigint(cli_demo: tuple[subprocess.Popen[str], int, int, Path]) -> None:
    process = cli_demo[0]
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "stopped" in out and "Traceback" not in err


def test_cli_serves_a_yaml_config_and_recordings(tmp_path: Path) -> None:
    port = free_udp_ports(6)
    config = tmp_path / "net.yaml"
    config.write_text(EXAMPLE_YAML.format(port=port))
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "edge-sw.snmprec").write_text("1.3.6.1.2.1.1.5.0|4|edge-sw\n")
    inventory = tmp_path / "inventory.json"
    process = start_cli("--config", str(config), "--recordings", str(recordings), "--inventory", str(inventory))
    try:
        agents = {a["name"]: a for a in json.loads(inventory.read_text())["agents"]}
        assert sorted(agents) == ["cmts-1", "cpe-0001", "cpe-0002", "cpe-0003", "gw-1", "rec-edge-sw"]
        assert [a["name"] for a in agents.values() if not a["online"]] != []
        assert netsnmp.get_values(("127.0.0.1", port, "lab"), "1.3.6.1.2.1.31.1.1.1.18.1001") == [b"sg-1"]
        assert netsnmp.get_values(("127.0.0.1", port + 1, "lab"), "1.3.6.1.4.1.4491.2.5.1.1.4.1.10.1") == [
            b"Lab-Home"]
        recording = agents["rec-edge-sw"]
        assert (recording["community"], recording["records"]) == ("edge-sw", 1)
        assert netsnmp.get_values(("127.0.0.1", recording["port"], "edge-sw"), "1.3.6.1.2.1.1.5.0") == [b"edge-sw"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def test_print_config_round_trips(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cpes", "4", "--speed", "120", "--print-config"]) == 0
    config = NetworkConfig.model_validate(yaml.safe_load(capsys.readouterr().out))
    assert config.speed == 120 and len(config.all_agents()) == 5 + 4


def test_cli_rejects_bad_configs_and_busy_ports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: [{kind: router, name: r, interfaces: [{index: 1, name: x, speed_mbps: -1}]}]\n")
    assert main(["--config", str(bad)]) == 2
    assert "speed_mbps" in capsys.readouterr().err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        taken = tmp_path / "taken.yaml"
        taken.write_text(f"agents: [{{kind: router, name: r, port: {port}}}]\n")
        assert main(["--config", str(taken)]) == 1
    assert f"cannot bind agent r to 127.0.0.1:{port}" in capsys.readouterr().err


def test_demo_network_matches_noc_demo_inventory() -> None:
    demo_data = pytest.importorskip("noc.inventory.demo_data")
    document = demo_data.demo_document()
    config = demo_config()
    agents = {a.name: a for a in config.all_agents()}
    credential = document["credentials"][0]["community"]
    for device in document["devices"]:
        agent = agents[device["name"]]
        assert (agent.port, agent.community) == (device["port"], credential)
    interfaces = {(a.name, i.index) for a in agents.values() if a.kind in ("router", "cmts", "olt")
                  for i in a.interfaces}  # type: ignore[union-attr]
    for segment in document["segments"]:
        for member in segment["members"]:
            assert (member["device"], member["if_index"]) in interfaces, member
    by_port = {a.port: a for a in agents.values()}
    for cpe in document["cpes"]:
        agent = by_port[cpe["port"]]
        assert (agent.mac, f"{agent.vendor} {agent.model}") == (cpe["mac"], cpe["model"])  # type: ignore[union-attr]
        assert agent.community == credential


def test_answers_every_request_in_process() -> None:
    """The responder alone, fast codec: every request of a batch answered with its own id (the throughput is a
    benchmark's business: docs/simulator.md has the UDP figures)."""
    with SimulatedNetwork({"agents": [{"kind": "router", "name": "r", "interfaces": [
            {"index": 1, "name": "x", "speed_mbps": 1000, "inbound": {"peak": 0.5}}]}]}) as net:
        agent = net.agent("r")
        batch = requests("public", DEFAULT_OIDS, 2000)
        replies = [answer(agent, request) for request in batch]
    assert all(replies)
    decoded = [decode_message(reply) for reply in replies if reply]
    assert [m.request_id for m in decoded] == list(range(1000, 3000))
    assert all(m.pdu_type == PduType.RESPONSE and len(m.varbinds) == len(DEFAULT_OIDS) for m in decoded)
