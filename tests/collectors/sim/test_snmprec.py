"""``.snmprec`` recordings: parsing, writing, and replay over UDP equal to the file."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from collectors.sim import SimulatedNetwork, format_snmprec, load_snmprec, parse_snmprec
from collectors.sim.smi import Value
from collectors.sim.snmprec import SnmprecError
from collectors.snmp import values
from collectors.snmp.ber import format_oid
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import SnmpError

RECORDING = b"""# a recording as snmpsim's snmprec tool writes it (unsorted on purpose)
1.3.6.1.2.1.1.3.0|67|123456
1.3.6.1.2.1.1.1.0|4|Cisco IOS Software, C2960 "LAN Base" \\ 15.0(2)SE
1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.1208
1.3.6.1.2.1.1.4.0|4|
1.3.6.1.2.1.1.5.0|4x|73770a2d3031ff00
1.3.6.1.2.1.1.6.0|4e|Ljubljana\\x2c rack 4\\n
1.3.6.1.2.1.2.2.1.1.10101|2|10101
1.3.6.1.2.1.2.2.1.5.10101|66|1000000000
1.3.6.1.2.1.2.2.1.10.10101|65|4294967295
1.3.6.1.2.1.2.2.1.3.10101|2|-6
1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1
1.3.6.1.2.1.31.1.1.1.6.10101|70|18446744073709551615
1.3.6.1.2.1.31.1.1.1.15.10101|66|1000
1.3.6.1.4.1.9.9.999.1.0|68x|0102
1.3.6.1.4.1.9.9.999.2.0|5|
1.3.6.1.4.1.9.9.999.3.0|129|
1.3.6.1.2.1.2.2.1.16.10101|65:numeric|rate=100,initial=5
"""

EXPECTED: dict[str, Value] = {
    "1.3.6.1.2.1.1.1.0": b'Cisco IOS Software, C2960 "LAN Base" \\ 15.0(2)SE',
    "1.3.6.1.2.1.1.2.0": values.ObjectId("1.3.6.1.4.1.9.1.1208"),
    "1.3.6.1.2.1.1.3.0": values.TimeTicks(123456),
    "1.3.6.1.2.1.1.4.0": b"",
    "1.3.6.1.2.1.1.5.0": b"sw\n-01\xff\x00",
    "1.3.6.1.2.1.1.6.0": b"Ljubljana, rack 4\n",
    "1.3.6.1.2.1.2.2.1.1.10101": 10101,
    "1.3.6.1.2.1.2.2.1.3.10101": -6,
    "1.3.6.1.2.1.2.2.1.5.10101": values.Gauge32(1000000000),
    "1.3.6.1.2.1.2.2.1.10.10101": values.Counter32(4294967295),
    "1.3.6.1.2.1.4.20.1.1.10.0.0.1": values.IpAddress("10.0.0.1"),
    "1.3.6.1.2.1.31.1.1.1.6.10101": values.Counter64(2**64 - 1),
    "1.3.6.1.2.1.31.1.1.1.15.10101": values.Gauge32(1000),
    "1.3.6.1.4.1.9.9.999.1.0": values.Opaque(b"\x01\x02"),
    "1.3.6.1.4.1.9.9.999.2.0": values.NULL,
    "1.3.6.1.4.1.9.9.999.3.0": values.NO_SUCH_INSTANCE,
}
NETSNMP_TYPES = {int: "INTEGER", bytes: "STRING", values.ObjectId: "OID", values.TimeTicks: "Timeticks",
                 values.Gauge32: "Gauge32", values.Counter32: "Counter32", values.Counter64: "Counter64",
                 values.IpAddress: "IpAddress"}


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "c2960.snmprec"
    path.write_bytes(RECORDING)
    return path


def test_parse_reads_every_tag_and_skips_variation_modules() -> None:
    parsed = parse_snmprec(RECORDING)
    assert {format_oid(oid): value for oid, value in parsed.records} == EXPECTED
    assert [type(v) for _, v in parsed.records] == [type(EXPECTED[format_oid(o)]) for o, _ in parsed.records]
    assert parsed.skipped == 1


def test_format_and_parse_round_trip(tmp_path: Path) -> None:
    records = parse_snmprec(RECORDING).records
    text = format_snmprec(records)
    assert "1.3.6.1.2.1.1.5.0|4x|73770a2d3031ff00" in text.splitlines()
    assert parse_snmprec(text.encode()).records == sorted(records)
    path = tmp_path / "again.snmprec.bz2"
    path.write_bytes(bz2.compress(text.encode()))
    assert load_snmprec(path).records == sorted(records)


@pytest.mark.parametrize("line", [b"1.3.6.1|4", b"1.3.6.1|99|x", b"1.3.6.1|2|twelve", b"x.y|2|1", b"1.3.6|4x|zz",
                                  b"1.3.6|4e|bad \\q escape"])
def test_bad_lines_name_their_line_number(line: bytes) -> None:
    with pytest.raises(SnmprecError, match="line 2"):
        parse_snmprec(b"1.3.6.1.2.1.1.3.0|67|1\n" + line + b"\n")


@pytest.mark.parametrize("codec", ["fast", "pysnmp"])
def test_replay_equals_the_file(recording: Path, codec: str) -> None:
    config = {"codec": codec, "agents": [{"kind": "recording", "name": "sw", "file": str(recording)}]}
    with SimulatedNetwork(config) as net:
        endpoint = net.endpoint("sw")
        assert endpoint[2] == "c2960"  # community = file name, as snmpsim does
        walked = {v.oid: v for v in netsnmp.walk(endpoint, ".1.3.6.1.2.1")}
        plain = {oid: value for oid, value in EXPECTED.items() if oid.startswith("1.3.6.1.2.1.")}
        assert set(walked) == set(plain)
        for oid, value in plain.items():
            assert walked[oid].type == NETSNMP_TYPES[type(value)], oid
            assert walked[oid].value == (value if isinstance(value, bytes | int) else str(value)), oid
        opaque, null, exception = netsnmp.get(endpoint, "1.3.6.1.4.1.9.9.999.1.0", "1.3.6.1.4.1.9.9.999.2.0",
                                              "1.3.6.1.4.1.9.9.999.3.0")
        assert (opaque.type.lower(), null.type, exception.type) == ("opaque", "NULL", "noSuchInstance")
        with pytest.raises(SnmpError) as failure:
            netsnmp.set_(endpoint, "1.3.6.1.2.1.1.5.0", "s", "renamed")
        assert failure.value.reason == "notWritable"


def test_writable_recording_keeps_sets_of_the_same_type(recording: Path) -> None:
    config = {"agents": [{"kind": "recording", "name": "sw", "file": str(recording), "community": "rw",
                          "writable": True}]}
    with SimulatedNetwork(config) as net:
        endpoint = net.endpoint("sw")
        netsnmp.set_(endpoint, "1.3.6.1.2.1.1.5.0", "s", "sw-renamed", "1.3.6.1.2.1.2.2.1.5.10101", "u", "100")
        assert netsnmp.get_values(endpoint, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.2.2.1.5.10101") == [b"sw-renamed", 100]
        with pytest.raises(SnmpError) as wrong_type:
            netsnmp.set_(endpoint, "1.3.6.1.2.1.1.6.0", "s", "moved", "1.3.6.1.2.1.2.2.1.5.10101", "i", "5")
        assert wrong_type.value.reason == "wrongType"
        assert netsnmp.get_values(endpoint, "1.3.6.1.2.1.1.6.0") == [b"Ljubljana, rack 4\n"]  # all or nothing
        with pytest.raises(SnmpError) as missing:
            netsnmp.set_(endpoint, "1.3.6.1.2.1.1.7.0", "i", "72")
        assert missing.value.reason == "noCreation"
