"""The BER codec, cross-checked against pysnmp's (pyasn1) independent implementation."""

from __future__ import annotations

import time

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902, rfc1905

from collectors.snmp import ber, values
from collectors.snmp.values import Counter32, Counter64, Gauge32, IpAddress, ObjectId, TimeTicks
from tests.support.hostile import subid

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


@pytest.mark.parametrize(
    "oid",
    ["1.3.6.1.2.1.1.3.0", "0.0", "2.999.1", "1.3.6.1.4.1.4491.2.1.20.1.2.1.1.3", "1.3.6.1.2.1.2.2.1.10.4294967295"],
)
def test_oid_round_trip_matches_pyasn1(oid: str) -> None:
    encoded = ber.encode_oid(oid)
    assert encoded == ber.encode_oid(ber.parse_oid(oid)) == encoder.encode(rfc1902.ObjectName(oid))
    assert ber.decode_oid(encoded[2:]) == oid
    assert ber.decode_oid_arcs(encoded[2:]) == ber.parse_oid(oid)


@pytest.mark.parametrize("bad", ["", "1", "3.1", "1.40", "1.3.x", "1..3"])
def test_invalid_oids_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        ber.normalize_oid(bad)


def test_normalize_strips_leading_dot() -> None:
    assert ber.normalize_oid(".1.3.6.1") == "1.3.6.1"


@pytest.mark.parametrize("v", [0, 1, 127, 128, 255, 256, -1, -128, -129, 2**31 - 1, -(2**31)])
def test_integer_encoding_is_minimal_and_decodes_with_pyasn1(v: int) -> None:
    ours = ber.encode_integer(v)
    assert int(decoder.decode(ours, asn1Spec=rfc1902.Integer32())[0]) == v
    # pyasn1 pads -128 and -2**31 with an extra 0xff; X.690 8.3.2 wants the minimal form.
    assert len(ours) <= len(encoder.encode(rfc1902.Integer32(v)))


def test_negative_powers_of_two_use_the_minimal_form() -> None:
    assert ber.encode_integer(-128) == b"\x02\x01\x80"
    assert ber.encode_integer(-129) == b"\x02\x02\xff\x7f"
    assert ber.encode_integer(-(2**31)) == b"\x02\x04\x80\x00\x00\x00"


@pytest.mark.parametrize(
    ("value", "asn1"),
    [
        (Counter32(2**32 - 1), rfc1902.Counter32(2**32 - 1)),
        (Gauge32(1000), rfc1902.Gauge32(1000)),
        (TimeTicks(0), rfc1902.TimeTicks(0)),
        (Counter64(2**64 - 1), rfc1902.Counter64(2**64 - 1)),
        (IpAddress("192.0.2.1"), rfc1902.IpAddress("192.0.2.1")),
        (ObjectId("1.3.6.1.4.1.8072"), rfc1902.ObjectIdentifier("1.3.6.1.4.1.8072")),
        (b"\x00\xffbinary", rfc1902.OctetString(b"\x00\xffbinary")),
        ("text ž", rfc1902.OctetString("text ž".encode())),
        (-5, rfc1902.Integer32(-5)),
    ],
)
def test_value_encoding_matches_pyasn1(value: object, asn1: object) -> None:
    assert ber.encode_value(value) == encoder.encode(asn1)


@pytest.mark.parametrize("bad", [2**31, Counter32(2**32), Counter64(-1), IpAddress("1.2.3"), 1.5])
def test_unencodable_values_are_rejected(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        ber.encode_value(bad)


def test_request_decodes_with_pysnmp() -> None:
    vbl = ber.encode_varbinds([("1.3.6.1.2.1.1.3.0", None), ("1.3.6.1.2.1.1.5.0", None)])
    data = ber.encode_community_message(1, b"community", ber.encode_pdu(ber.GETBULK, 123456, vbl, 0, 25))
    msg, rest = decoder.decode(data, asn1Spec=V2C.Message())
    assert not rest
    pdu = V2C.apiMessage.get_pdu(msg)
    assert bytes(V2C.apiMessage.get_community(msg)) == b"community"
    assert int(V2C.apiPDU.get_request_id(pdu)) == 123456
    assert int(V2C.apiBulkPDU.get_max_repetitions(pdu)) == 25
    assert [str(o) for o, _ in V2C.apiPDU.get_varbinds(pdu)] == ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]


def test_response_built_by_pysnmp_decodes_to_typed_values() -> None:
    msg = V2C.Message()
    V2C.apiMessage.set_defaults(msg)
    V2C.apiMessage.set_community(msg, "c")
    pdu = V2C.ResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, 77)
    sent = [
        ("1.3.6.1.2.1.1.3.0", rfc1902.TimeTicks(123)),
        ("1.3.6.1.2.1.1.1.0", rfc1902.OctetString(b"descr")),
        ("1.3.6.1.2.1.2.2.1.10.1", rfc1902.Counter32(5)),
        ("1.3.6.1.2.1.31.1.1.1.6.1", rfc1902.Counter64(2**40)),
        ("1.3.6.1.2.1.31.1.1.1.15.1", rfc1902.Gauge32(1000)),
        ("1.3.6.1.2.1.4.20.1.1.1", rfc1902.IpAddress("10.0.0.1")),
        ("1.3.6.1.2.1.1.2.0", rfc1902.ObjectIdentifier("1.3.6.1.4.1.8072.3.2.10")),
        ("1.3.6.1.2.1.2.2.1.8.1", rfc1902.Integer32(-7)),
        ("1.3.6.1.2.1.1.9.0", rfc1905.noSuchObject),
        ("1.3.6.1.2.1.1.9.1", rfc1905.noSuchInstance),
        ("1.3.6.1.2.1.1.9.2", rfc1905.endOfMibView),
    ]
    V2C.apiPDU.set_varbinds(pdu, sent)
    V2C.apiMessage.set_pdu(msg, pdu)
    data = encoder.encode(msg)
    assert ber.peek_message_id(data) == 77
    version, community, decoded = ber.decode_community_message(data)
    assert (version, community, decoded.tag, decoded.request_id) == (1, b"c", ber.RESPONSE, 77)
    got = dict(decoded.varbinds)
    expect_types = [TimeTicks, bytes, Counter32, Counter64, Gauge32, IpAddress, ObjectId, int]
    for (oid, _), t in zip(sent, expect_types, strict=False):
        assert type(got[oid]) is t
    assert got["1.3.6.1.2.1.31.1.1.1.6.1"] == 2**40
    assert got["1.3.6.1.2.1.4.20.1.1.1"] == "10.0.0.1"
    assert got["1.3.6.1.2.1.1.2.0"] == "1.3.6.1.4.1.8072.3.2.10"
    assert got["1.3.6.1.2.1.2.2.1.8.1"] == -7
    assert got["1.3.6.1.2.1.1.9.0"] is values.NO_SUCH_OBJECT
    assert got["1.3.6.1.2.1.1.9.1"] is values.NO_SUCH_INSTANCE
    assert got["1.3.6.1.2.1.1.9.2"] is values.END_OF_MIB_VIEW


@pytest.mark.parametrize("cut", [1, 5, 20, -1])
def test_truncated_messages_raise_ber_error(cut: int) -> None:
    vbl = ber.encode_varbinds([("1.3.6.1.2.1.1.3.0", TimeTicks(5))])
    data = ber.encode_community_message(1, b"c", ber.encode_pdu(ber.RESPONSE, 1, vbl))
    with pytest.raises(ber.BerError):
        ber.decode_community_message(data[:cut])


def _response_with_oid_body(body: bytes) -> bytes:
    """A v2c GET response whose one varbind has OID content octets ``body`` (any length) and value NULL."""
    oid = b"\x06" + ber.encode_length(len(body)) + body
    vbl = ber.tlv(0x30, ber.tlv(0x30, oid + b"\x05\x00"))
    return ber.encode_community_message(1, b"c", ber.encode_pdu(ber.RESPONSE, 1, vbl))


@pytest.mark.parametrize("arc", [2**32, 2**40, 2**64 + 5])
def test_sub_identifiers_above_32_bits_are_rejected(arc: int) -> None:
    body = b"\x2b\x06\x01" + subid(arc)
    for decode in (ber.decode_oid, ber.decode_oid_arcs):
        with pytest.raises(ber.BerError, match="2\\*\\*32-1"):
            decode(body)
    with pytest.raises(ber.BerError):
        ber.decode_community_message(_response_with_oid_body(body))
    with pytest.raises(ValueError):
        ber.encode_oid(f"1.3.6.1.{arc}")
    with pytest.raises(ValueError):
        ber.encode_oid((1, 3, 6, 1, arc))
    assert ber.decode_oid(b"\x2b\x06\x01" + subid(2**32 - 1)) == "1.3.6.1.4294967295"


def test_at_most_128_sub_identifiers() -> None:
    longest = (1, 3, *[2**32 - 1] * 126)
    encoded = ber.encode_oid(longest)
    assert ber.decode_oid_arcs(encoded[4:]) == longest  # header: tag, 0x82, two length octets
    assert encoded == encoder.encode(rfc1902.ObjectName(longest))
    too_long = (*longest, 1)
    with pytest.raises(ValueError, match="128"):
        ber.encode_oid(too_long)
    with pytest.raises(ValueError, match="128"):
        ber.normalize_oid(ber.format_oid(too_long))
    body = ber.encode_oid(longest)[4:] + b"\x01"
    for decode in (ber.decode_oid, ber.decode_oid_arcs):
        with pytest.raises(ber.BerError, match="128"):
            decode(body)


def test_a_64_kb_sub_identifier_costs_under_5_ms() -> None:
    """One 65,000-octet sub-identifier used to cost ~1 s of CPU (quadratic big-int shifting)."""
    reps = 5
    messages = [_response_with_oid_body(b"\x2b" + b"\xff" * 65_000 + bytes((i,))) for i in range(reps)]
    start = time.process_time()
    for data in messages:
        with pytest.raises(ber.BerError):
            ber.decode_community_message(data)
    per_message = (time.process_time() - start) / reps
    assert per_message < 0.005, f"decoding a 64 KB OID cost {per_message * 1000:.2f} ms of CPU"


def test_oid_caches_are_bounded_in_bytes() -> None:
    cache = ber.OidCache(lambda body: ber.format_oid(ber._arcs(body)), budget=200_000)
    bodies = [ber.encode_oid((1, 3, *[2**32 - 1] * 125, i))[4:] for i in range(500)]  # ~2.4 kB each cached
    for body in bodies:
        assert cache[body] == ber.format_oid(ber._arcs(body))
        assert cache.used <= cache.budget
    assert 0 < len(cache) < 100
    with pytest.raises(ber.BerError):
        cache[b"\x2b\xff"]
    assert b"\x2b\xff" not in cache
    assert ber.OID_STRINGS_CACHE.budget == ber.OID_ARCS_CACHE.budget == ber.OID_TLV_CACHE.budget == (16 << 20)


INT32_RANGE = "value outside the range -2**31..2**31-1"
BIG_SUBID = "OBJECT IDENTIFIER sub-identifier above 2**32-1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\x46\x09\x01" + b"\x00" * 8, values.Invalid("Counter64", "9-octet value outside the range 0..2**64-1")),
        (b"\x46\x09\x00" + b"\xff" * 8, Counter64(2**64 - 1)),
        (b"\x41\x05\x01\x00\x00\x00\x00", values.Invalid("Counter32", "5-octet value outside the range 0..2**32-1")),
        (b"\x41\x05\x00\xff\xff\xff\xff", Counter32(2**32 - 1)),
        (b"\x41\x04\xff\xff\xff\xff", Counter32(2**32 - 1)),  # missing leading zero octet: read as net-snmp does
        (b"\x43\x00", values.Invalid("TimeTicks", "0-octet value outside the range 0..2**32-1")),
        (b"\x42\x06\x00\x01\x00\x00\x00\x00", values.Invalid("Gauge32", "6-octet value outside the range 0..2**32-1")),
        (b"\x02\x05\x00\x80\x00\x00\x00", values.Invalid("Integer32", f"5-octet {INT32_RANGE}")),
        (b"\x02\x05\x00\x7f\xff\xff\xff", 2**31 - 1),
        (b"\x02\x00", values.Invalid("Integer32", f"0-octet {INT32_RANGE}")),
        (b"\x40\x05\x01\x02\x03\x04\x05", values.Invalid("IpAddress", "5 octets, not 4")),
        (b"\x06\x06\x2b\x90\x80\x80\x80\x00", values.Invalid("ObjectId", BIG_SUBID)),
    ],
)
def test_values_outside_their_range_decode_as_invalid_and_the_rest_still_decodes(raw: bytes, expected: object) -> None:
    """One bad value is an invalid reading of that object, not a message that cannot be decoded."""
    vbl = ber.tlv(0x30, b"".join(ber.tlv(0x30, ber.encode_oid(f"1.3.6.1.{i}") + v) for i, v in enumerate(
        [b"\x41\x01\x07", raw, b"\x04\x02ok"]))
    )
    pdu = ber.decode_community_message(ber.encode_community_message(1, b"c", ber.encode_pdu(ber.RESPONSE, 9, vbl)))[2]
    got = dict(pdu.varbinds)
    assert got["1.3.6.1.0"] == 7 and got["1.3.6.1.2"] == b"ok"
    assert got["1.3.6.1.1"] == expected and type(got["1.3.6.1.1"]) is type(expected)
