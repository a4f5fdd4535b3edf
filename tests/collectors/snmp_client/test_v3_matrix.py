"""The whole SNMPv3 USM matrix against net-snmp's snmpd: every authentication x privacy protocol (both AES-192/256
key extensions), authNoPriv and noAuthNoPriv; keys cross-checked against pysnmp; protocol names as operators
write them."""

from __future__ import annotations

import traceback
from dataclasses import replace

import pytest
from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import auth as pysnmp_auth
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel

from collectors.snmp import usm
from collectors.snmp.auth import (
    AUTH_PROTOCOLS,
    PRIV_PROTOCOLS,
    V3,
    AuthProto,
    PrivProto,
    V2c,
    normalise_auth_protocol,
    normalise_priv_protocol,
)
from collectors.snmp.client import SnmpAuthError, SnmpClient, SnmpError, SnmpResponseError
from collectors.snmp.values import Value
from tests.support.snmpd import NET_SNMP_PRIV, RW_COMMUNITY, SECRETS, V3_MATRIX, V3_NOAUTH, V3_SHA256, Agent

from .conftest import run, with_client

SYS_DESCR, SYS_OBJECT_ID, SYS_LOCATION = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.6.0"
SYS_CONTACT = "1.3.6.1.2.1.1.4.0"
READ = [SYS_DESCR, SYS_OBJECT_ID, SYS_LOCATION]

PYSNMP_AUTH = {
    "MD5": pysnmp_auth.usmHMACMD5AuthProtocol, "SHA": pysnmp_auth.usmHMACSHAAuthProtocol,
    "SHA224": pysnmp_auth.usmHMAC128SHA224AuthProtocol, "SHA256": pysnmp_auth.usmHMAC192SHA256AuthProtocol,
    "SHA384": pysnmp_auth.usmHMAC256SHA384AuthProtocol, "SHA512": pysnmp_auth.usmHMAC384SHA512AuthProtocol,
}  # fmt: skip
PYSNMP_PRIV = {
    "DES": pysnmp_auth.usmDESPrivProtocol, "AES": pysnmp_auth.usmAesCfb128Protocol,
    "AES192": pysnmp_auth.usmAesBlumenthalCfb192Protocol, "AES256": pysnmp_auth.usmAesBlumenthalCfb256Protocol,
    "AES192C": pysnmp_auth.usmAesCfb192Protocol, "AES256C": pysnmp_auth.usmAesCfb256Protocol,
}  # fmt: skip
"""pysnmp's name of each protocol: AES192 is its Blumenthal variant, AES192C its (Cisco) usmAesCfb192Protocol."""


def _skip_unless_supported(agent: Agent, priv: PrivProto | None) -> None:
    why = agent.lacks(priv) if priv is not None else None
    if why:
        pytest.skip(why)


@pytest.mark.parametrize(("auth", "priv"), list(V3_MATRIX), ids=[f"{a}-{p or 'authNoPriv'}" for a, p in V3_MATRIX])
def test_every_auth_and_priv_protocol_reads_what_v2c_reads(snmpd: Agent, auth: AuthProto, priv: PrivProto) -> None:
    _skip_unless_supported(snmpd, priv)
    creds = V3_MATRIX[auth, priv]

    async def read(c: SnmpClient) -> tuple[dict[str, Value], dict[str, Value]]:
        return await c.get(snmpd.target(creds, timeout=2, retries=1), READ), await c.get(snmpd.target(), READ)

    v3, v2c = run(with_client(read))
    assert v3 == v2c and v3[SYS_LOCATION] == b"noc-test-rack"


def test_no_auth_no_priv_user_reads_what_v2c_reads(snmpd: Agent) -> None:
    async def read(c: SnmpClient) -> tuple[dict[str, Value], dict[str, Value], dict[str, int]]:
        v3 = await c.get(snmpd.target(V3_NOAUTH, timeout=2, retries=1), READ)
        return v3, await c.get(snmpd.target(), READ), dict(c.stats)

    v3, v2c, stats = run(with_client(read))
    assert v3 == v2c and stats["v3_discoveries"] == 1 and stats["malformed"] == 0


def test_no_auth_request_for_an_auth_user_is_refused_by_the_agent(snmpd: Agent) -> None:
    noauth = snmpd.target(V3(V3_MATRIX["SHA", "AES"].user), timeout=1, retries=0)
    with pytest.raises(SnmpResponseError, match="authorizationError"):  # net-snmp's VACM: the user needs priv
        run(with_client(lambda c: c.get(noauth, READ)))


@pytest.mark.parametrize(("auth", "bits"), [(a, b) for a in ("MD5", "SHA") for b in (192, 256)])
def test_cisco_and_blumenthal_key_extensions_are_told_apart(snmpd: Agent, auth: AuthProto, bits: int) -> None:
    """MD5 and SHA-1 give too short a key for AES-192/256: the two extensions then differ, and only the one the
    agent's user was created with works."""
    blumenthal, cisco = f"AES{bits}", f"AES{bits}C"
    for priv in (blumenthal, cisco):
        _skip_unless_supported(snmpd, priv)  # type: ignore[arg-type]
    for created, used in ((blumenthal, cisco), (cisco, blumenthal)):
        creds = V3_MATRIX[auth, created]  # type: ignore[index]
        wrong = snmpd.target(replace(creds, priv_proto=used), timeout=0.3, retries=0)
        with pytest.raises(SnmpError):  # net-snmp drops what it cannot decrypt: a timeout
            run(with_client(lambda c, wrong=wrong: c.get(wrong, READ)))


@pytest.mark.parametrize("auth", AUTH_PROTOCOLS)
@pytest.mark.parametrize("priv", PRIV_PROTOCOLS)
def test_localized_keys_match_pysnmp(auth: AuthProto, priv: PrivProto) -> None:
    engine_id = bytes.fromhex("80001f8880a1b2c3d4e5f60718")
    password = "Priv-passphrase-9"
    proto = SnmpUSMSecurityModel.PRIV_SERVICES[PYSNMP_PRIV[priv]]
    ku = proto.hash_passphrase(PYSNMP_AUTH[auth], password)
    reference = bytes(proto.localize_key(PYSNMP_AUTH[auth], ku, univ.OctetString(engine_id)))
    assert usm.priv_key(auth, priv, password, engine_id) == reference
    engine = usm.Engine.discovered(V3("u", auth, password, priv, password), engine_id, 1, 2)
    assert engine.priv_key == reference
    assert engine.auth_key == usm.localize(auth, usm.password_to_key(auth, password), engine_id)


@pytest.mark.parametrize(
    ("written", "auth"),
    [("sha-256", "SHA256"), ("SHA256", "SHA256"), ("sha256", "SHA256"), ("HMAC-SHA-256", "SHA256"),
     ("SHA2-512", "SHA512"), ("sha_384", "SHA384"), ("SHA-224", "SHA224"), ("sha1", "SHA"), ("SHA-1", "SHA"),
     ("sha", "SHA"), ("HMAC-192-SHA-256", "SHA256"), ("md5", "MD5"), ("HMAC-MD5-96", "MD5"),
     ("none", None), ("", None), (None, None)],
)  # fmt: skip
def test_auth_protocol_names_as_operators_write_them(written: str | None, auth: AuthProto | None) -> None:
    assert normalise_auth_protocol(written) == auth


@pytest.mark.parametrize(
    ("written", "priv"),
    [("AES-128", "AES"), ("AES128", "AES"), ("aes", "AES"), ("aes-cfb-128", "AES"), ("AES-192", "AES192"),
     ("aes256", "AES256"), ("AES-192-C", "AES192C"), ("aes256c", "AES256C"), ("AES-256-Cisco", "AES256C"),
     ("des", "DES"), ("DES56", "DES"), ("CBC-DES", "DES"), ("None", None), (None, None)],
)  # fmt: skip
def test_priv_protocol_names_as_operators_write_them(written: str | None, priv: PrivProto | None) -> None:
    assert normalise_priv_protocol(written) == priv


def test_unknown_protocol_names_are_refused_with_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown SNMPv3 authentication protocol 'sha3': use MD5, SHA .*SHA-256"):
        normalise_auth_protocol("sha3")
    with pytest.raises(ValueError, match=r"unknown SNMPv3 privacy protocol '3des': use DES, AES .*AES-256-C"):
        normalise_priv_protocol("3des")


def test_credentials_keep_canonical_names_and_a_security_level() -> None:
    creds = V3("u", "sha-256", "auth-key-1", "AES-256-C", "priv-key-1")  # type: ignore[arg-type]
    assert (creds.auth_proto, creds.priv_proto, creds.level) == ("SHA256", "AES256C", "authPriv")
    assert V3("u", "md5", "auth-key-1").level == "authNoPriv"  # type: ignore[arg-type]
    assert V3("u").level == "noAuthNoPriv"
    assert V3("u", "SHA", "auth-key-1", "aes128", "p") == V3("u", "SHA", "auth-key-1", "AES", "p")  # type: ignore[arg-type]
    assert "auth-key-1" not in repr(creds) and "priv-key-1" not in repr(creds)


@pytest.mark.parametrize(
    ("creds", "message"),
    [
        (V3("u", "SHA3", "auth-key-1"), "unsupported auth protocol 'SHA3'"),  # type: ignore[arg-type]
        (V3("u", "SHA", "auth-key-1", "3DES", "priv-key-1"), "unsupported privacy protocol '3DES'"),  # type: ignore[arg-type]
        (V3("u", None, "auth-key-1"), "noAuthNoPriv takes no keys"),
        (V3("u", None, None, "AES", "priv-key-1"), "privacy needs authentication"),
        (V3("u", "SHA", "auth-key-1", "AES"), "a privacy protocol and a privacy key go together"),
        (V3("u", "SHA", "auth-key-1", None, "priv-key-1"), "a privacy protocol and a privacy key go together"),
        (V3("u", "SHA"), "at least 8 characters"),
        (V3("u", "SHA", "short"), "at least 8 characters"),
        (V3("u", "SHA", "auth-key-1", "AES", "short"), "at least 8 characters"),
    ],
)
def test_unusable_credentials_are_an_auth_error_of_that_target_only(snmpd: Agent, creds: V3, message: str) -> None:
    async def read(c: SnmpClient) -> dict[str, Value]:
        with pytest.raises(SnmpAuthError, match=message) as err:
            await c.get(snmpd.target(creds, timeout=0.5, retries=0), READ)
        text = str(err.value) + "".join(traceback.format_exception(err.value))
        assert not any(key in text for key in (creds.auth_key, creds.priv_key) if key)
        return await c.get(snmpd.target(V3_MATRIX["SHA", "AES"]), READ)

    assert run(with_client(read))[SYS_LOCATION] == b"noc-test-rack"


def test_matrix_users_cover_every_protocol_and_their_keys_are_secrets() -> None:
    assert {a for a, _ in V3_MATRIX} == set(AUTH_PROTOCOLS)
    assert {p for _, p in V3_MATRIX} == {None, *PRIV_PROTOCOLS} and set(NET_SNMP_PRIV) == set(PRIV_PROTOCOLS)
    assert all(creds.auth_key in SECRETS for creds in V3_MATRIX.values())


def test_secrets_are_written_only_over_auth_priv(snmpd: Agent, own_snmpd: Agent) -> None:
    passphrase = [(SYS_CONTACT, b"wifi-passphrase-9x")]

    async def writes(c: SnmpClient) -> list[str]:
        refused = []
        for creds in (V2c(RW_COMMUNITY), V3_NOAUTH, V3_MATRIX["SHA256", None]):
            with pytest.raises(SnmpAuthError) as err:
                await c.set(snmpd.target(creds), passphrase, secret=True)
            refused.append(str(err.value))
        assert c.stats["requests"] == 0  # nothing went out
        await c.set(own_snmpd.target(V3_SHA256), passphrase, secret=True)
        return refused

    refused = run(with_client(writes))
    assert [r.rsplit(", not ", 1)[1] for r in refused] == ["SNMPv2c", "noAuthNoPriv", "authNoPriv"]
    assert all("secrets are written only over SNMPv3 authPriv" in r and "wifi" not in r for r in refused)
    assert 'STRING: "wifi-passphrase-9x"' in own_snmpd.cli("snmpget", SYS_CONTACT).stdout
