"""Reachability probes on loopback: ICMP echo and TCP SYN (raw sockets, scapy) and, without raw-socket privilege,
a TCP connect; the result names its method."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys

import pytest

from collectors.probe.reach import icmp_echo, reach, tcp_connect, tcp_syn
from tests.conftest import free_port


def test_icmp_echo_measures_rtt_and_loss() -> None:
    found = asyncio.run(icmp_echo("127.0.0.1", count=3, timeout=1.0))
    assert (found.method, found.sent, found.received, found.loss) == ("icmp", 3, 3, 0.0)
    shown = found.as_dict()
    assert shown["reachable"] and 0 < shown["rtt_ms"]["min"] <= shown["rtt_ms"]["avg"] <= shown["rtt_ms"]["max"]


def test_many_echo_probes_at_once_lose_nothing() -> None:
    async def many() -> list[int]:
        return [r.received for r in await asyncio.gather(*(icmp_echo("127.0.0.1", timeout=5.0) for _ in range(300)))]

    assert asyncio.run(many()) == [3] * 300  # identifiers never collide (random ones would, now and then)


def test_tcp_syn_gets_an_answer_from_open_and_closed_ports() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert asyncio.run(tcp_syn("127.0.0.1", port)).reachable  # SYN-ACK
    assert asyncio.run(tcp_syn("127.0.0.1", free_port())).reachable  # RST: the host is there


def test_tcp_connect_counts_refused_as_an_answer() -> None:
    found = asyncio.run(tcp_connect("127.0.0.1", free_port()))
    assert (found.method, found.received) == ("tcp_connect", 1)


def test_non_ipv4_hosts_use_a_tcp_connect() -> None:
    assert asyncio.run(reach("localhost", free_port())).method == "tcp_connect"


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_without_raw_socket_privilege_reach_falls_back_to_tcp_connect() -> None:
    script = ("import asyncio, json; from collectors.probe.reach import reach; "
              f"print(json.dumps(asyncio.run(reach('127.0.0.1', {free_port()})).as_dict()))")
    done = subprocess.run(["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw", sys.executable, "-c",
                           script], capture_output=True, text=True, timeout=60, check=True)
    found = json.loads(done.stdout)
    assert found["method"] == "tcp_connect" and found["reachable"]


@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("ip") is None, reason="needs unshare and ip")
def test_when_icmp_is_filtered_reach_falls_back_to_a_tcp_syn() -> None:
    """In a network namespace of its own (the host's settings untouched), loopback ignores echo requests."""
    script = ("import asyncio, json; from collectors.probe.reach import reach; "
              f"print(json.dumps(asyncio.run(reach('127.0.0.1', {free_port()}, timeout=0.5)).as_dict()))")
    shell = f"ip link set lo up && echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all && {sys.executable} -c \"{script}\""
    done = subprocess.run(["unshare", "--net", "sh", "-c", shell], capture_output=True, text=True, timeout=60,
                          check=True)
    found = json.loads(done.stdout)
    assert found["method"] == "tcp_syn" and found["reachable"] and found["rtt_ms"]["avg"] > 0
