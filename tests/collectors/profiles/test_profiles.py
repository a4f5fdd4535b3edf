"""Device profiles: loading, validation errors, inheritance, decoding, secrets."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from collectors.samples import Sample
from collectors.snmp.counters import RateTracker
from collectors.snmp.profiles import (
    DEFAULT_MAX_ROWS,
    DEFAULT_POLL_DEADLINE_S,
    PROFILE_DIR,
    InvalidReading,
    PollLimits,
    Profile,
    ProfileError,
    available_profiles,
    decode,
    load_profile,
)
from collectors.snmp.values import Counter32, Counter64, Gauge32, Invalid, TimeTicks, Value

BOUNDED_TAGS = {"device", "ifindex", "channel", "band", "profile", "ssid", "ap"}
PASSPHRASE = b"correct horse battery staple"
RADIUS_SECRET = b"radius-s3cret"


def oid(profile: Profile, name: str, *index: int) -> str:
    """The instance OID of object ``name`` in ``profile``."""
    return ".".join([profile.object(name).oid, *map(str, index)])


def by(samples: list[Sample], measurement: str, **tags: str) -> Sample:
    found = [s for s in samples if s.measurement == measurement and all(s.tag(k) == v for k, v in tags.items())]
    assert len(found) == 1, (measurement, tags, found)
    return found[0]


def cm_results(p: Profile, *, uptime_s: int = 86_400, in_octets: int = 10**12) -> dict[str, Value]:
    """What a DOCSIS 3.1 modem answers: eth (1), MAC (2), two SC-QAM DS (3, 4), one US (80), OFDM (48), OFDMA (90)."""
    r: dict[str, Value] = {
        oid(p, "sysUpTime"): TimeTicks(uptime_s * 100),
        oid(p, "sysDescr"): b"DOCSIS 3.1 Cable Modem <<HW_REV: 1.0; VENDOR: Example>>",
    }
    for ifindex, name, iftype in [(1, b"eth0", 6), (2, b"cable-mac", 127), (3, b"", 128), (4, b"ds-2", 128),
                                  (80, b"us-1", 129), (48, b"ofdm-1", 277), (90, b"ofdma-1", 278)]:  # fmt: skip
        r[oid(p, "ifName", ifindex)] = name
        r[oid(p, "ifDescr", ifindex)] = b"RF Downstream Interface" if ifindex == 3 else b"descr"
        r[oid(p, "ifType", ifindex)] = iftype
        r[oid(p, "ifOperStatus", ifindex)] = 1
        if ifindex != 3:  # no ifXTable row for 3: saturated ifSpeed says nothing
            r[oid(p, "ifHighSpeed", ifindex)] = Gauge32(0 if ifindex == 2 else 1000)
        r[oid(p, "ifSpeed", ifindex)] = Gauge32(2**32 - 1 if ifindex == 3 else 400_000_000)
        r[oid(p, "ifHCInOctets", ifindex)] = Counter64(in_octets + ifindex)
        r[oid(p, "ifInOctets", ifindex)] = Counter32((in_octets + ifindex) % 2**32)
        r[oid(p, "ifOutOctets", ifindex)] = Counter32(12_345)  # no ifHCOutOctets: the 32-bit one fills in
    for ch, power, snr, mod in [(3, -32, 385, 4), (4, 71, 301, 3)]:
        r[oid(p, "docsIfDownChannelFrequency", ch)] = 602_000_000 + ch * 8_000_000
        r[oid(p, "docsIfDownChannelModulation", ch)] = mod
        r[oid(p, "docsIfDownChannelPower", ch)] = power
        r[oid(p, "docsIfSigQSignalNoise", ch)] = snr
        r[oid(p, "docsIf3SignalQualityExtRxMER", ch)] = snr + 5
        r[oid(p, "docsIfSigQExtUnerroreds", ch)] = Counter64(2**40)
        r[oid(p, "docsIfSigQExtCorrecteds", ch)] = Counter64(1_234)
        r[oid(p, "docsIfSigQExtUncorrectables", ch)] = Counter64(7)
        r[oid(p, "docsIfSigQCorrecteds", ch)] = Counter32(99)
    r[oid(p, "docsIf3CmStatusUsTxPower", 80)] = 455
    r[oid(p, "docsIf3CmStatusUsT3Timeouts", 80)] = Counter32(2)
    r[oid(p, "docsIf3CmStatusUsT4Timeouts", 80)] = Counter32(0)
    r[oid(p, "docsIf3CmStatusValue", 2)] = 12
    r[oid(p, "docsIfCmStatusValue", 2)] = 12
    r[oid(p, "docsIfCmStatusTxPower", 2)] = 455
    r[oid(p, "docsIfCmStatusResets", 2)] = Counter32(3)
    r[oid(p, "docsIfCmStatusT3Timeouts", 2)] = Counter32(2)
    r[oid(p, "docsPnmCmDsOfdmRxMerMean", 48)] = 4012
    for band, power in [(0, 15), (1, -12)]:
        r[oid(p, "docsIf31CmDsOfdmChannelPowerRxPower", 48, band)] = power
    for prof in (0, 1):
        r[oid(p, "docsIf31CmDsOfdmProfileStatsTotalCodewords", 48, prof)] = Counter64(10**9)
        r[oid(p, "docsIf31CmDsOfdmProfileStatsCorrectedCodewords", 48, prof)] = Counter64(500)
        r[oid(p, "docsIf31CmDsOfdmProfileStatsUncorrectableCodewords", 48, prof)] = Counter64(1)
    r[oid(p, "docsIf31CmUsOfdmaChanTxPower", 90)] = 178
    return r


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# --- loading ---------------------------------------------------------------------------------------------


def test_builtin_profiles_are_listed_without_policy_files() -> None:
    assert available_profiles() == ["docsis-cm", "docsis-gw", "gpon-ont", "if-mib"]


@pytest.mark.parametrize("name", ["if-mib", "docsis-cm", "docsis-gw", "gpon-ont"])
def test_each_profile_loads(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.uptime == "sysUpTime"
    assert "1.3.6.1.2.1.1.3.0" in profile.get_oids
    assert profile.walk_roots and all(not r.startswith(".") for r in profile.walk_roots)
    assert len(set(profile.walk_roots)) == len(profile.walk_roots)


def test_reference_oids_are_used_exactly() -> None:
    cm = load_profile("docsis-gw")
    expected = {
        "ifHCInOctets": "1.3.6.1.2.1.31.1.1.1.6",
        "ifHCOutOctets": "1.3.6.1.2.1.31.1.1.1.10",
        "ifHighSpeed": "1.3.6.1.2.1.31.1.1.1.15",
        "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
        "docsIfDownChannelPower": "1.3.6.1.2.1.10.127.1.1.1.1.6",
        "docsIfSigQSignalNoise": "1.3.6.1.2.1.10.127.1.1.4.1.5",
        "docsIfSigQExtUncorrectables": "1.3.6.1.2.1.10.127.1.1.4.1.10",
        "docsIfCmStatusT4Timeouts": "1.3.6.1.2.1.10.127.1.2.2.1.13",
        "docsIf3CmStatusUsTxPower": "1.3.6.1.4.1.4491.2.1.20.1.2.1.1",
        "docsIf3SignalQualityExtRxMER": "1.3.6.1.4.1.4491.2.1.20.1.24.1.1",
        "docsIf31CmDsOfdmChannelPowerRxPower": "1.3.6.1.4.1.4491.2.1.28.1.11.1.3",
        "docsIf31CmDsOfdmProfileStatsUncorrectableCodewords": "1.3.6.1.4.1.4491.2.1.28.1.10.1.5",
        "docsIf31CmUsOfdmaChanTxPower": "1.3.6.1.4.1.4491.2.1.28.1.13.1.10",
        "docsPnmCmDsOfdmRxMerMean": "1.3.6.1.4.1.4491.2.1.27.1.2.5.1.3",
        "clabWIFICommitSettings": "1.3.6.1.4.1.4491.2.5.1.1.1.6.0",
        "clabWIFISSIDSSID": "1.3.6.1.4.1.4491.2.5.1.1.4.1.10",
        "clabWIFIAccessPointIsolationEnable": "1.3.6.1.4.1.4491.2.5.1.1.6.1.15",
        "clabWIFIAccessPointSecurityKeyPassphrase": "1.3.6.1.4.1.4491.2.5.1.1.7.1.5",
        "clabWIFISSIDPolicyAllocatedBandwidth": "1.3.6.1.4.1.4491.2.5.1.1.12.1.2",
    }
    assert {name: cm.object(name).oid for name in expected} == expected


def test_inheritance_merges_without_copying() -> None:
    base, cm, gw, ont = (load_profile(n) for n in ("if-mib", "docsis-cm", "docsis-gw", "gpon-ont"))
    assert ont.tables == base.tables and ont.scalars == base.scalars and ont.extends == "if-mib"
    base_if, cm_if = base.tables[0], cm.tables[0]
    assert base_if.filter is None
    assert cm_if.columns == base_if.columns
    assert cm_if.filter is not None and cm_if.filter.in_ == (127, 277, 278)
    assert [t.name for t in gw.tables] == [t.name for t in cm.tables] + ["wifi_ssids", "wifi_access_points"]
    assert gw.extends == "docsis-cm" and gw.uptime == "sysUpTime"


def test_operator_directory_extends_patches_and_drops(tmp_path: Path) -> None:
    write(
        tmp_path,
        "vendor-x-cm",
        """\
        name: vendor-x-cm
        extends: docsis-cm
        description: Vendor X reports ifHighSpeed 4294 on every port; no DOCSIS 3.1.
        tables:
          - name: interfaces
            columns:
              - name: ifHighSpeed
                absent_values: [4294]
              - name: ifAlias
                oid: 1.3.6.1.2.1.31.1.1.1.18
                type: DisplayString
                field: alias
          - {name: ofdm_bands, drop: true}
          - {name: ofdm_profiles, drop: true}
        """,
    )
    assert "vendor-x-cm" in available_profiles([tmp_path])
    profile = load_profile("vendor-x-cm", [tmp_path])
    interfaces = profile.tables[0]
    assert profile.object("ifHighSpeed").absent_values == (4294,)
    assert profile.object("ifHighSpeed").scale == 1_000_000  # the rest of the column is inherited
    assert interfaces.columns[-1].name == "ifAlias" and interfaces.filter is not None
    assert "ofdm_bands" not in [t.name for t in profile.tables]
    assert "1.3.6.1.4.1.4491.2.1.28.1.11.1.3" not in profile.walk_roots


def _error(tmp_path: Path, text: str, name: str = "bad") -> str:
    path = write(tmp_path, name, text)
    with pytest.raises(ProfileError) as info:
        load_profile(name, [tmp_path])
    message = str(info.value)
    assert str(path) in message
    return message


GOOD_TABLE = """\
name: bad
tables:
  - name: interfaces
    measurement: interface
    index: [ifindex]
    columns:
      - {name: ifHCInOctets, oid: 1.3.6.1.2.1.31.1.1.1.6, type: Counter64, field: in_octets}
"""


def test_bad_field_is_reported_with_file_and_field_path(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD_TABLE.replace("field: in_octets}", "field: in_octets, scale: ten}"))
    assert "tables[interfaces].columns[ifHCInOctets].scale" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("field: in_octets", "feild: in_octets"), "columns[ifHCInOctets].feild: Extra inputs are not permitted"),
        (("type: Counter64", "type: Counter65"), "columns[ifHCInOctets].type"),
        (("oid: 1.3.6.1.2.1.31.1.1.1.6", "oid: 1.3.6.x"), "columns[ifHCInOctets].oid: not a numeric OID"),
        (("field: in_octets", "field: InOctets"), "columns[ifHCInOctets].field: String should match pattern"),
        (("field: in_octets", "field: ifindex"), "field 'ifindex' is already used by index"),
        (("field: in_octets}", "field: in_octets, scale: 8}"), "scale: only for integer types"),
        (("field: in_octets}", "field: in_octets, rate: {field: in_bps, capacity: speed}}"), "rate.capacity"),
        (("index: [ifindex]", "index: []"), "tables[interfaces]: index and columns: give at least one"),
        (("    measurement: interface\n", ""), "tables[interfaces].measurement: Field required"),
        (("    index:", "    max_rows: 0\n    index:"), "tables[interfaces].max_rows: Input should be greater than"),
        (("name: bad\n", "name: bad\npoll_deadline_s: 0\n"), "poll_deadline_s: Input should be greater than 0"),
    ],
)
def test_validation_errors_name_the_field(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    assert change[0] in GOOD_TABLE
    assert expected in _error(tmp_path, GOOD_TABLE.replace(*change))


def test_semantic_errors(tmp_path: Path) -> None:
    row = "      - {name: ifInOctets, oid: 1.3.6.1.2.1.2.2.1.10, type: Counter32, fallback_for: ifX}\n"
    fallback = GOOD_TABLE + row
    assert "ifInOctets.fallback_for: no other column named 'ifX'" in _error(tmp_path, fallback)
    wrong_kind = fallback.replace("Counter32, fallback_for: ifX", "DisplayString, fallback_for: ifHCInOctets")
    assert "gives text values but ifHCInOctets gives counter" in _error(tmp_path, wrong_kind)
    nested = GOOD_TABLE + "      - {name: ifX, oid: 1.3.6.1.2.1.31.1.1.1.6.1, type: Counter64, field: x}\n"
    assert "oid of ifX is under the oid of ifHCInOctets" in _error(tmp_path, nested)
    secret = GOOD_TABLE + "      - {name: key, oid: 1.3.6.9, type: OctetString, secret: true, field: key}\n"
    assert "never read: remove field" in _error(tmp_path, secret)
    filt = GOOD_TABLE.replace("    index:", "    filter: {column: ifType, in: [6]}\n    index:")
    assert "filter.column" in _error(tmp_path, filt)
    assert "uptime" in _error(tmp_path, GOOD_TABLE + "uptime: ifHCInOctets\n")


def test_file_level_errors(tmp_path: Path) -> None:
    duplicated = GOOD_TABLE.replace("type: Counter64", "oid: 1.3.6, type: Counter64")
    assert "duplicate key 'oid'" in _error(tmp_path, duplicated)
    renamed = GOOD_TABLE.replace("name: bad", "name: other")
    assert "name: 'other' differs from the file name" in _error(tmp_path, renamed)
    assert "expected a mapping" in _error(tmp_path, "- 1\n")
    write(tmp_path, "loop-a", "name: loop-a\nextends: loop-b\n")
    write(tmp_path, "loop-b", "name: loop-b\nextends: loop-a\n")
    with pytest.raises(ProfileError, match="cycle loop-a -> loop-b -> loop-a"):
        load_profile("loop-a", [tmp_path])
    drop = "name: bad\nextends: if-mib\ntables:\n  - {name: nothing, drop: true}\n"
    assert "tables[nothing].drop" in _error(tmp_path, drop)
    with pytest.raises(ProfileError, match="no profile named 'nope'"):
        load_profile("nope", [tmp_path])


def test_walk_row_caps_and_poll_deadline_default_inherit_and_are_overridden_per_device(tmp_path: Path) -> None:
    write(tmp_path, "big-cmts", """\
        name: big-cmts
        extends: if-mib
        poll_deadline_s: 50
        tables:
          - name: interfaces
            max_rows: 60000
        """)  # fmt: skip
    base, big = load_profile("if-mib"), load_profile("big-cmts", [tmp_path])
    hc_in = base.object("ifHCInOctets").oid
    assert base.walk_limit(hc_in) == ("interfaces", DEFAULT_MAX_ROWS) == ("interfaces", 10_000)
    assert base.deadline_s() == DEFAULT_POLL_DEADLINE_S == 30.0
    assert big.walk_limit(hc_in) == ("interfaces", 60_000) and big.deadline_s() == 50.0
    assert {big.walk_limit(root)[1] for root in big.walk_roots} == {60_000}
    device = PollLimits(max_rows=500, poll_deadline_s=5)
    assert big.walk_limit(hc_in, device) == ("interfaces", 500) and big.deadline_s(device) == 5
    assert big.walk_limit(hc_in, PollLimits(poll_deadline_s=9)) == ("interfaces", 60_000)
    assert big.deadline_s(PollLimits(max_rows=9)) == 50.0
    for bad in ({"max_rows": 0}, {"poll_deadline_s": 0.0}, {"poll_deadline_s": float("nan")}):
        with pytest.raises(ValueError):
            PollLimits(**bad)  # type: ignore[arg-type]


def test_profile_dir_has_no_init_so_profiles_py_stays_the_module() -> None:
    assert not (PROFILE_DIR / "__init__.py").exists()


# --- decoding --------------------------------------------------------------------------------------------


def test_decode_docsis_cm_scales_units_and_tags_rows() -> None:
    p = load_profile("docsis-cm")
    samples = decode(p, "cm-0001", cm_results(p), 1_700_000_000.7)

    assert all(s.time == 1_700_000_000 for s in samples)
    for s in samples:
        assert s.tags[0] == ("device", "cm-0001")
        assert {k for k, _ in s.tags} <= BOUNDED_TAGS
        assert all(v.isdigit() for k, v in s.tags[1:])

    system = by(samples, "system")
    assert system.fields["uptime_s"] == 86_400.0

    ds3 = by(samples, "cm_downstream", channel="3")
    assert ds3.fields["power_dbmv"] == -3.2
    assert ds3.fields["snr_db"] == 38.5
    assert ds3.fields["rxmer_db"] == 39.0
    assert ds3.fields["modulation"] == "qam256"
    assert ds3.fields["frequency_hz"] == 626_000_000
    assert ds3.fields["corrected_codewords"] == 1_234  # the Counter64 wins over the Counter32 fallback
    assert type(ds3.fields["uncorrectable_codewords"]) is Counter64
    assert by(samples, "cm_downstream", channel="4").fields["modulation"] == "qam64"

    us = by(samples, "cm_upstream", channel="80")
    assert us.fields == {"tx_power_dbmv": 45.5, "t3_timeouts": 2, "t4_timeouts": 0}
    status = by(samples, "cm_status", ifindex="2")
    assert status.fields["status"] == 12 and status.fields["status_name"] == "operational"
    assert status.fields["tx_power_dbmv"] == 45.5 and status.fields["resets"] == 3

    assert by(samples, "cm_ofdm", channel="48").fields == {"rxmer_mean_db": 40.12}
    assert by(samples, "cm_ofdm_band", channel="48", band="0").fields == {"rx_power_dbmv": 1.5}
    assert by(samples, "cm_ofdm_band", channel="48", band="1").fields == {"rx_power_dbmv": -1.2}
    assert by(samples, "cm_ofdm_profile", channel="48", profile="1").fields["uncorrectable_codewords"] == 1
    assert by(samples, "cm_ofdma", channel="90").fields == {"tx_power_dbmv": 44.5}


def test_decode_interfaces_filter_and_fallbacks() -> None:
    p = load_profile("docsis-cm")
    samples = decode(p, "cm-0001", cm_results(p), 1_000.0)
    interfaces = {s.tag("ifindex"): s.fields for s in samples if s.measurement == "interface"}
    # the MAC and OFDM/OFDMA channels; eth0 (ifType 6) and the SC-QAM channels (128, 129) filtered out
    assert sorted(interfaces, key=int) == ["2", "48", "90"]
    generic = decode(load_profile("if-mib"), "cm-0001", cm_results(p), 1_000.0)  # the same rows, unfiltered
    interfaces.update({s.tag("ifindex"): s.fields for s in generic if s.tag("ifindex") in ("3", "4")})
    assert interfaces["2"]["speed_bps"] == 400e6  # ifHighSpeed 0 → ifSpeed
    assert interfaces["4"]["speed_bps"] == 1e9
    assert "speed_bps" not in interfaces["3"]  # no ifHighSpeed, ifSpeed saturated: unknown
    assert interfaces["3"]["name"] == "RF Downstream Interface"  # empty ifName → ifDescr
    assert interfaces["2"]["oper_status"] == "up" and interfaces["2"]["type"] == 127
    assert type(interfaces["2"]["in_octets"]) is Counter64
    assert type(interfaces["2"]["out_octets"]) is Counter32  # no ifHCOutOctets answered


def test_decode_ignores_values_of_the_wrong_type() -> None:
    p = load_profile("docsis-cm")
    results = {oid(p, "docsIfDownChannelPower", 3): b"oops", oid(p, "docsIfSigQSignalNoise", 3): 400}
    (sample,) = decode(p, "cm", results, 0)
    assert sample.fields == {"snr_db": 40.0}


def test_readings_out_of_range_or_of_the_wrong_type_are_invalid_never_exceptions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = load_profile("if-mib")
    results: dict[str, Value] = {
        oid(p, "sysUpTime"): -5,  # INTEGER -5 for a TimeTicks: used to read as -0.05 s
        oid(p, "ifType", 1): 6,
        oid(p, "ifHCInOctets", 1): Counter64(2**64),  # out of range, even with the right class
        oid(p, "ifHCOutOctets", 1): Gauge32(5),  # a gauge is not a counter
        oid(p, "ifType", 2): 2**100,
        oid(p, "ifHighSpeed", 2): Gauge32(2**32),
        oid(p, "ifSpeed", 2): Gauge32(10**9),
        oid(p, "ifHCInOctets", 2): -1000,
        oid(p, "ifInOctets", 2): Counter32(77),  # the fallback fills in for the invalid primary
        oid(p, "ifHCOutOctets", 2): Invalid("Counter64", "9-octet value outside the range 0..2**64-1"),
        oid(p, "ifName", 2): 17,
    }
    tracker = RateTracker()
    with caplog.at_level(logging.WARNING, logger="collectors.snmp.profiles"):
        first = decode(p, "r-invalid", results, 1_000.0, rates=tracker)
        second = decode(p, "r-invalid", results, 1_300.0, rates=tracker)
    assert first.invalid == second.invalid
    assert {(r.object, r.index) for r in first.invalid} == {
        ("sysUpTime", ""), ("ifHCInOctets", "1"), ("ifHCOutOctets", "1"), ("ifType", "2"), ("ifHighSpeed", "2"),
        ("ifHCInOctets", "2"), ("ifHCOutOctets", "2"), ("ifName", "2"),
    }  # fmt: skip
    reasons = {(r.object, r.index): r.reason for r in first.invalid}
    assert reasons[("sysUpTime", "")] == "-5 outside 0..4294967295"
    assert reasons[("ifType", "2")] == "a 101-bit number outside -2147483648..2147483647"
    assert reasons[("ifHCOutOctets", "1")] == "got Gauge32, not a counter"
    assert reasons[("ifName", "2")] == "got int, not octets"
    assert "system" not in {s.measurement for s in first}  # sysDescr not answered, uptime invalid
    rows = {s.tag("ifindex"): s.fields for s in second}
    assert rows["1"] == {"type": 6}
    # the Counter32 fallback at 1 Gbit/s could wrap within 300 s: a rate, flagged
    assert rows["2"] == {"speed_bps": 1e9, "in_octets": 77, "in_bps": 0.0, "in_bps_valid": False}
    assert len(caplog.records) == 6  # once per device and object, not per row or poll
    assert InvalidReading("ifName", "2", "got int, not octets") in first.invalid


def test_truth_values_other_than_1_and_2_are_invalid() -> None:
    p = load_profile("docsis-gw")
    results: dict[str, Value] = {oid(p, "clabWIFISSIDEnable", 1): 1, oid(p, "clabWIFISSIDEnable", 2): 3}
    readings = decode(p, "gw", results, 0)
    assert [s.fields for s in readings] == [{"enabled": True}]
    assert readings.invalid == (InvalidReading("clabWIFISSIDEnable", "2", "3 outside 1..2"),)


def test_decode_with_rates_across_polls_and_restart() -> None:
    p = load_profile("if-mib")
    tracker = RateTracker()

    def poll(at: float, uptime_s: int, octets: int, capacity: dict[str, float] | None = None) -> dict:
        results = {
            oid(p, "sysUpTime"): TimeTicks(uptime_s * 100),
            oid(p, "ifType", 7): 6,
            oid(p, "ifHighSpeed", 7): Gauge32(100),
            oid(p, "ifHCInOctets", 7): Counter64(octets),
            oid(p, "ifHCOutOctets", 7): Counter64(0),
        }
        return by(decode(p, "r1", results, at, rates=tracker, capacity_bps=capacity), "interface").fields

    first = poll(1_000.0, 5_000, 10**9)
    assert "in_bps" not in first
    second = poll(1_300.0, 5_300, 10**9 + 300 * 5_000_000 // 8)
    assert second["in_bps"] == 5_000_000.0 and second["in_bps_valid"] is True
    assert second["out_bps"] == 0.0
    restarted = poll(1_600.0, 60, 10**9 + 10**12)
    assert "in_bps" not in restarted and "out_bps" not in restarted
    above = poll(1_900.0, 360, 10**9 + 10**12 + 300 * 150_000_000 // 8)
    assert above["in_bps"] == 150e6 and above["in_bps_valid"] is False  # above ifHighSpeed 100 Mbit/s
    override = poll(2_200.0, 660, 10**9 + 10**12 + 2 * 300 * 150_000_000 // 8, capacity={"7": 1e9})
    assert override["in_bps"] == 150e6 and override["in_bps_valid"] is True


def test_fallback_roots_for_a_two_pass_poll() -> None:
    p = load_profile("if-mib")
    assert set(p.walk_roots) - set(p.primary_walk_roots) == {
        "1.3.6.1.2.1.2.2.1.2",
        "1.3.6.1.2.1.2.2.1.5",
        "1.3.6.1.2.1.2.2.1.10",
        "1.3.6.1.2.1.2.2.1.16",
    }
    first_pass = {
        oid(p, "ifName", 1): b"xe-0/0/0",
        oid(p, "ifType", 1): 6,
        oid(p, "ifHighSpeed", 1): Gauge32(0),
        oid(p, "ifHCInOctets", 1): Counter64(1),
        oid(p, "ifHCOutOctets", 1): Counter64(1),
    }
    assert p.needed_fallback_roots(first_pass) == ("1.3.6.1.2.1.2.2.1.5",)  # only ifSpeed


def test_a_counters_zero_needs_no_fallback_once_the_table_shows_its_counters_kept() -> None:
    p = load_profile("if-mib")
    ds, us = 3, 4  # a modem's downstream channel sends nothing, its upstream channel receives nothing

    def first_pass(in_ds: int, out_us: int) -> dict[str, Value]:
        return {
            **{oid(p, "ifName", i): b"ch" for i in (ds, us)}, **{oid(p, "ifType", i): 128 for i in (ds, us)},
            **{oid(p, "ifHighSpeed", i): Gauge32(56) for i in (ds, us)},
            oid(p, "ifHCInOctets", ds): Counter64(in_ds), oid(p, "ifHCOutOctets", ds): Counter64(0),
            oid(p, "ifHCInOctets", us): Counter64(0), oid(p, "ifHCOutOctets", us): Counter64(out_us),
        }

    assert p.needed_fallback_roots(first_pass(2_133, 346)) == ()  # zeros beside readings: real zeros
    # every 64-bit counter zero: an agent that does not keep them; the Counter32 columns are walked
    assert p.needed_fallback_roots(first_pass(0, 0)) == ("1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.16")
    absent = first_pass(2_133, 346)
    del absent[oid(p, "ifHCOutOctets", us)]  # a row without the object: its fallback, whatever the others read
    assert p.needed_fallback_roots(absent) == ("1.3.6.1.2.1.2.2.1.16",)


# --- secrets ---------------------------------------------------------------------------------------------


def test_secret_columns_are_never_read_or_decoded(caplog: pytest.LogCaptureFixture) -> None:
    p = load_profile("docsis-gw")
    secrets = ["KeyPassphrase", "PreSharedKey", "WEPKey", "RadiusSecret", "SecondaryRadiusSecret"]
    secret_oids = {p.object(f"clabWIFIAccessPointSecurity{s}").oid for s in secrets}
    assert all(p.object(f"clabWIFIAccessPointSecurity{s}").secret for s in secrets)
    assert not secret_oids & set(p.walk_roots) and not secret_oids & set(p.get_oids)
    assert p.object("clabWIFICommitSettings").oid not in p.get_oids  # write-only

    results = cm_results(p)
    for ssid, name in [(1, b"Home-1234"), (2, b"Public-Hotspot")]:
        results[oid(p, "clabWIFISSIDEnable", ssid)] = 1
        results[oid(p, "clabWIFISSIDStatus", ssid)] = 1 if ssid == 1 else 2
        results[oid(p, "clabWIFISSIDSSID", ssid)] = name
        results[oid(p, "clabWIFISSIDPolicyAllocatedBandwidth", ssid)] = 0 if ssid == 1 else 20
        results[oid(p, "clabWIFIAccessPointEnable", ssid)] = 1
        results[oid(p, "clabWIFIAccessPointSSIDReference", ssid)] = ssid
        results[oid(p, "clabWIFIAccessPointIsolationEnable", ssid)] = 2 if ssid == 1 else 1
        results[oid(p, "clabWIFIAccessPointSecurityModeEnabled", ssid)] = 5
        results[oid(p, "clabWIFIAccessPointSecurityRadiusServerIPAddr", ssid)] = bytes([192, 0, 2, 10])
        # as if someone walked the whole security table: the secrets are in the results
        results[oid(p, "clabWIFIAccessPointSecurityKeyPassphrase", ssid)] = PASSPHRASE
        results[oid(p, "clabWIFIAccessPointSecurityRadiusSecret", ssid)] = RADIUS_SECRET
        results[oid(p, "clabWIFIAccessPointSecurityPreSharedKey", ssid)] = PASSPHRASE
    with caplog.at_level(logging.DEBUG):
        samples = decode(p, "gw-1", results, 0)

    ap2 = by(samples, "wifi_ap", ap="2")
    assert ap2.fields == {
        "enabled": True,
        "ssid_ref": 2,
        "isolation": True,
        "security_mode": "wpa2Personal",
        "radius_server": "192.0.2.10",
    }
    ssid2 = by(samples, "wifi_ssid", ssid="2")
    assert ssid2.fields == {
        "enabled": True,
        "status": "down",
        "ssid_name": "Public-Hotspot",
        "allocated_bandwidth_mbps": 20,
    }
    dump = repr(samples) + caplog.text
    for secret in (PASSPHRASE, RADIUS_SECRET):
        assert secret.decode() not in dump and secret.hex() not in dump


def test_secondary_ssid_mapping_is_data(tmp_path: Path) -> None:
    gateway = load_profile("docsis-gw")
    assert gateway.secondary_ssid is not None and gateway.secondary_ssid.primary == (1, 2)
    assert [(row.id, row.radio) for row in gateway.secondary_ssid.rows] == [(3, 1), (4, 2)]
    assert gateway.secondary_ssid.security_modes["wpa2-psk"] == 5
    assert load_profile("docsis-cm").secondary_ssid is None
    overlap = GOOD_TABLE + "secondary_ssid: {primary: [1], rows: [{id: 1, radio: 1}], security_modes: {open: 1}}\n"
    assert "secondary_ssid: rows: ids must be distinct" in _error(tmp_path, overlap)
    template = GOOD_TABLE + ("secondary_ssid: {primary: [1], rows: [{id: 2, radio: 1}], security_modes: {open: 1}, "
                             "lower_layers: 'Radio.{band}'}\n")
    assert "lower_layers: only {radio} and {vlan}" in _error(tmp_path, template)
