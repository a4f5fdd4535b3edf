"""The fast BER codec (``collectors.snmp.ber``, as the simulator uses it) against pysnmp's message layer: same
bytes out, same messages in."""

from __future__ import annotations

import pytest

from collectors.sim import pysnmp_codec
from collectors.sim.message import Message, decode_message, encode_message
from collectors.sim.smi import VarBind
from collectors.snmp import values
from collectors.snmp.ber import BerError, PduType, decode_oid_arcs, encode_oid

VARBINDS: list[VarBind] = [
    ((1, 3, 6, 1, 2, 1, 1, 3, 0), values.TimeTicks(4294967295)),
    ((1, 3, 6, 1, 2, 1, 1, 1, 0), b"Linux \x00\xff box"),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), values.Counter32(0)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 16, 2**31), values.Counter32(2**32 - 1)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), values.Counter64(2**64 - 1)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), values.Gauge32(2**31)),
    ((1, 3, 6, 1, 2, 1, 1, 2, 0), values.ObjectId("1.3.6.1.4.1.8072.3.2.10")),
    ((1, 3, 6, 1, 4, 1, 4491, 2, 1, 20, 1, 2, 1, 1, 4), -2**31 + 1),
    ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), values.IpAddress("10.0.0.1")),
    ((1, 3, 6, 1, 4, 1, 1, 1), values.Opaque(b"\x9f\x78\x04\x00\x00\x00\x00")),
    ((1, 3, 6, 1, 2, 1, 1, 99, 0), values.NO_SUCH_OBJECT),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 99), values.NO_SUCH_INSTANCE),
    ((2, 999, 1), values.END_OF_MIB_VIEW),
    ((1, 3, 6, 1, 2, 1, 1, 5, 0), values.NULL),
    ((1, 3, 6, 1, 2, 1, 1, 4, 0), b"x" * 300),  # two-octet lengths
]


@pytest.mark.parametrize("pdu_type", [PduType.GET, PduType.RESPONSE, PduType.SET, PduType.GET_BULK])
@pytest.mark.parametrize("request_id", [0, 1, -1, 2**31 - 1, -2**31 + 1])
def test_fast_codec_encodes_like_pysnmp(pdu_type: PduType, request_id: int) -> None:
    msg = Message(1, b"s3cret", pdu_type, request_id, 3, 25, list(VARBINDS))
    fast = encode_message(msg)
    assert fast == pysnmp_codec.encode_message(msg)
    for decode in (decode_message, pysnmp_codec.decode_message):
        decoded = decode(fast)
        assert decoded == msg
        assert [type(v) for _, v in decoded.varbinds] == [type(v) for _, v in msg.varbinds]


def test_small_messages_match_for_every_value_alone() -> None:
    for oid, value in VARBINDS[:-1]:
        msg = Message(1, b"public", PduType.RESPONSE, 7, 0, 0, [(oid, value)])
        assert encode_message(msg) == pysnmp_codec.encode_message(msg), value


def test_negative_powers_of_two_are_minimal_and_read_by_pysnmp() -> None:
    # pyasn1 encodes -128 as ff 80 (one octet too many); the fast codec writes the minimal 80, which BER requires
    for value in (-128, -2**15, -2**31):
        msg = Message(1, b"public", PduType.RESPONSE, value, 0, 0, [((1, 3, 6, 1), value)])
        fast = encode_message(msg)
        assert len(fast) == len(pysnmp_codec.encode_message(msg)) - 2
        assert pysnmp_codec.decode_message(fast) == msg == decode_message(pysnmp_codec.encode_message(msg))


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x03\x02\x01", b"\x04\x00", b"\x30\x80\x02\x01\x01\x00\x00",
                                  b"\x30\x05\x02\x01\x01\x04\x00"])
def test_malformed_datagrams_raise_ber_error(data: bytes) -> None:
    with pytest.raises(BerError):
        decode_message(data)


def test_truncated_messages_raise_ber_error() -> None:
    whole = encode_message(Message(1, b"public", PduType.GET, 5, 0, 0, list(VARBINDS[:4])))
    for cut in range(len(whole)):
        with pytest.raises(BerError):
            decode_message(whole[:cut])


def test_oid_arcs_round_trip() -> None:
    for oid in [(0, 0), (1, 3), (2, 100, 3), (1, 3, 6, 1, 4, 1, 2**32 - 1, 127, 128, 16383, 16384)]:
        encoded = encode_oid(oid)
        assert decode_oid_arcs(encoded[2:]) == oid
    with pytest.raises(ValueError):
        encode_oid((3, 1))
