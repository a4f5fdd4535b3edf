"""SNMPv3 messages with the User-based Security Model (RFC 3412, 3414, 3826, 7860).

Security levels noAuthNoPriv, authNoPriv and authPriv. Authentication HMAC-MD5-96, HMAC-SHA-96 and HMAC-SHA-2
(224/256/384/512); privacy DES-CBC, AES-128-CFB and AES-192/256-CFB, the latter with either key extension in
use: net-snmp's AES-192/AES-256 (draft-blumenthal-aes-usm-04, ``AES192``/``AES256``) or Cisco's, net-snmp's
AES-192-C/AES-256-C (the draft-reeder 3DES procedure, ``AES192C``/``AES256C``). Keys are derived from the
passwords once per password (the 1 MB hash) and localized once per engine ID.

Per agent the client keeps an :class:`Engine` (engine ID, boots, time, localized keys); the client
re-synchronises it from the agent's reports, so an agent that restarts (boots/time change) or comes
back with a new engine ID is polled again without any reset.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collectors.snmp.auth import AUTH_PROTOCOLS, PRIV_PROTOCOLS, V3
from collectors.snmp.ber import (
    GET,
    BerError,
    Pdu,
    decode_oid,
    decode_pdu,
    encode_integer,
    encode_length,
    encode_pdu,
    read_int,
    read_octets,
    tlv,
)
from collectors.snmp.ber import (
    read_header as _read_header,
)

try:  # DES and CFB live among the "decrepit" primitives in recent cryptography releases
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    TripleDES = algorithms.TripleDES  # type: ignore[misc]
try:
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    CFB = modes.CFB  # type: ignore[misc]

_HASH: dict[str, tuple[Callable[..., hashlib._Hash], int]] = {
    "MD5": (hashlib.md5, 12),
    "SHA": (hashlib.sha1, 12),
    "SHA224": (hashlib.sha224, 16),
    "SHA256": (hashlib.sha256, 24),
    "SHA384": (hashlib.sha384, 32),
    "SHA512": (hashlib.sha512, 48),
}
USM_STATS = "1.3.6.1.6.3.15.1.1."
UNSUPPORTED_SEC_LEVEL = USM_STATS + "1.0"
NOT_IN_TIME_WINDOW = USM_STATS + "2.0"
UNKNOWN_USER_NAME = USM_STATS + "3.0"
UNKNOWN_ENGINE_ID = USM_STATS + "4.0"
WRONG_DIGEST = USM_STATS + "5.0"
DECRYPTION_ERROR = USM_STATS + "6.0"
REPORT_NAMES = {
    UNSUPPORTED_SEC_LEVEL: "unsupportedSecLevel",
    NOT_IN_TIME_WINDOW: "notInTimeWindow",
    UNKNOWN_USER_NAME: "unknownUserName",
    UNKNOWN_ENGINE_ID: "unknownEngineID",
    WRONG_DIGEST: "wrongDigest",
    DECRYPTION_ERROR: "decryptionError",
}
MAX_MESSAGE_SIZE = 65507
_FLAG_AUTH, _FLAG_PRIV, _FLAG_REPORTABLE = 1, 2, 4


def check_credentials(creds: V3) -> None:
    """Raise ValueError for protocols this module does not implement, keys that are missing or too short, or
    keys without their protocol (the message never contains a key)."""
    if creds.auth_proto is None:
        if creds.auth_key is not None or creds.priv_proto is not None or creds.priv_key is not None:
            raise ValueError("noAuthNoPriv takes no keys and no privacy protocol (privacy needs authentication)")
        return
    if creds.auth_proto not in _HASH:
        raise ValueError(f"unsupported auth protocol {creds.auth_proto!r} (known: {', '.join(AUTH_PROTOCOLS)})")
    if creds.priv_proto is not None and creds.priv_proto not in _PRIV:
        raise ValueError(f"unsupported privacy protocol {creds.priv_proto!r} (known: {', '.join(PRIV_PROTOCOLS)})")
    if (creds.priv_proto is None) != (creds.priv_key is None):
        raise ValueError("a privacy protocol and a privacy key go together")
    if creds.auth_key is None or len(creds.auth_key) < 8 or (creds.priv_key is not None and len(creds.priv_key) < 8):
        raise ValueError("SNMPv3 keys must be at least 8 characters")


def _passphrase_key(auth_proto: str, passphrase: bytes) -> bytes:
    """RFC 3414 A.2: the hash of 1 MB of the repeated passphrase (Ku)."""
    buf = (passphrase * (1048576 // len(passphrase) + 1))[:1048576]
    return _HASH[auth_proto][0](buf).digest()


@lru_cache(maxsize=1024)
def password_to_key(auth_proto: str, password: str) -> bytes:
    """RFC 3414 A.2: Ku of a password (cached)."""
    return _passphrase_key(auth_proto, password.encode())


def localize(auth_proto: str, ku: bytes, engine_id: bytes) -> bytes:
    """RFC 3414 A.2: Kul = H(Ku || engineID || Ku)."""
    return _HASH[auth_proto][0](ku + engine_id + ku).digest()


def _blumenthal(auth_proto: str, key: bytes, engine_id: bytes, need: int) -> bytes:
    """draft-blumenthal-aes-usm-04 3.1.2.1 (net-snmp's AES-192/AES-256): append H(key so far)."""
    while len(key) < need:
        key += _HASH[auth_proto][0](key).digest()
    return key


def _reeder(auth_proto: str, key: bytes, engine_id: bytes, need: int) -> bytes:
    """draft-reeder-snmpv3-usm-3desede-00 2.1 (Cisco, net-snmp's AES-192-C/AES-256-C): append the key so far
    taken as a passphrase, hashed and localized again."""
    while len(key) < need:
        key += localize(auth_proto, _passphrase_key(auth_proto, key), engine_id)
    return key


_PRIV: dict[str, tuple[int, Callable[[str, bytes, bytes, int], bytes]]] = {
    "DES": (16, _blumenthal),  # 16 octets are always there: no extension
    "AES": (16, _blumenthal),
    "AES192": (24, _blumenthal),
    "AES256": (32, _blumenthal),
    "AES192C": (24, _reeder),
    "AES256C": (32, _reeder),
}
"""Localized privacy key length and key extension of each privacy protocol."""


def priv_key(auth_proto: str, priv_proto: str, password: str, engine_id: bytes) -> bytes:
    """Localized privacy key, extended for AES-192/256 as ``priv_proto`` says (Blumenthal or Reeder)."""
    need, extend = _PRIV[priv_proto]
    key = localize(auth_proto, password_to_key(auth_proto, password), engine_id)
    return extend(auth_proto, key, engine_id, need)[:need]


@dataclass(slots=True)
class Engine:
    """What a manager knows about one agent's SNMP engine, for one set of credentials."""

    engine_id: bytes
    boots: int
    time: int
    synced_at: float
    auth_key: bytes | None = field(repr=False)
    priv_key: bytes | None = field(repr=False)

    @classmethod
    def discovered(cls, creds: V3, engine_id: bytes, boots: int, engine_time: int) -> Engine:
        """Localize the keys (if any) for ``engine_id``; ``creds`` passed :func:`check_credentials`."""
        akey = pkey = None
        if creds.auth_proto is not None and creds.auth_key is not None:
            akey = localize(creds.auth_proto, password_to_key(creds.auth_proto, creds.auth_key), engine_id)
            if creds.priv_proto is not None and creds.priv_key is not None:
                pkey = priv_key(creds.auth_proto, creds.priv_proto, creds.priv_key, engine_id)
        return cls(engine_id, boots, engine_time, time.monotonic(), akey, pkey)

    def now(self) -> int:
        """The agent's snmpEngineTime as estimated locally."""
        return min(self.time + int(time.monotonic() - self.synced_at), 2**31 - 1)

    def resync(self, boots: int, engine_time: int) -> None:
        """Take the agent's boots and time (from an authenticated message)."""
        self.boots, self.time, self.synced_at = boots, engine_time, time.monotonic()

    def observe(self, boots: int, engine_time: int) -> None:
        """RFC 3414 3.2.7 b: move the timeline forward from an authentic response."""
        if boots > self.boots or (boots == self.boots and engine_time > self.now()):
            self.resync(boots, engine_time)


@dataclass(slots=True)
class Message:
    """A decoded SNMPv3 message."""

    msg_id: int
    engine_id: bytes
    boots: int
    time: int
    authenticated: bool
    encrypted: bool
    pdu: Pdu


_salt = int.from_bytes(os.urandom(8), "big")


def _next_salt() -> int:
    global _salt
    _salt = (_salt + 1) & 0xFFFFFFFFFFFFFFFF
    return _salt


def _aes(key: bytes, iv: bytes) -> Cipher[Any]:
    return Cipher(algorithms.AES(key), CFB(iv))


def _des(key: bytes, iv: bytes) -> Cipher[Any]:
    return Cipher(TripleDES(key[:8] * 3), modes.CBC(iv))  # three equal keys: single DES


def _encrypt(creds: V3, engine: Engine, boots: int, engine_time: int, plain: bytes) -> tuple[bytes, bytes]:
    key = engine.priv_key
    assert key is not None
    if creds.priv_proto == "DES":
        salt = boots.to_bytes(4, "big") + (_next_salt() & 0xFFFFFFFF).to_bytes(4, "big")
        iv = bytes(a ^ b for a, b in zip(key[8:16], salt, strict=True))
        plain += b"\0" * (-len(plain) % 8)
        enc = _des(key, iv).encryptor()
    else:
        salt = _next_salt().to_bytes(8, "big")
        enc = _aes(key, boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt).encryptor()
    return enc.update(plain) + enc.finalize(), salt


def _decrypt(creds: V3, engine: Engine, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    key = engine.priv_key
    assert key is not None
    if len(salt) != 8:
        raise BerError("bad privacy parameters")
    if creds.priv_proto == "DES":
        if len(data) % 8:
            raise BerError("bad DES ciphertext length")
        dec = _des(key, bytes(a ^ b for a, b in zip(key[8:16], salt, strict=True))).decryptor()
    else:
        dec = _aes(key, boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt).decryptor()
    return dec.update(data) + dec.finalize()


def encode_discovery(msg_id: int) -> bytes:
    """RFC 3414 4: an unauthenticated, reportable GET with no engine ID and no user."""
    pdu = encode_pdu(GET, msg_id, b"\x30\x00")
    usm = tlv(0x30, b"\x04\x00\x02\x01\x00\x02\x01\x00\x04\x00\x04\x00\x04\x00")
    return _message(msg_id, _FLAG_REPORTABLE, usm, tlv(0x30, b"\x04\x00\x04\x00" + pdu))[0]


def _message(msg_id: int, flags: int, usm: bytes, msg_data: bytes) -> tuple[bytes, int]:
    """The whole message and the offset of the security parameters' content in it."""
    header = tlv(0x30, encode_integer(msg_id) + encode_integer(MAX_MESSAGE_SIZE) + bytes((4, 1, flags, 2, 1, 3)))
    usm_head = bytes((0x04,)) + encode_length(len(usm))
    body = b"\x02\x01\x03" + header + usm_head + usm + msg_data
    outer = bytes((0x30,)) + encode_length(len(body))
    return outer + body, len(outer) + 3 + len(header) + len(usm_head)


def encode_request(creds: V3, engine: Engine, msg_id: int, pdu: bytes) -> bytes:
    """A reportable request carrying ``pdu`` at the credentials' security level: authenticated when the engine
    has an authentication key, and encrypted too when it has a privacy key."""
    return encode_message(creds, engine, msg_id, pdu, engine.boots, engine.now(), reportable=True)


def encode_message(creds: V3, engine: Engine, msg_id: int, pdu: bytes, boots: int, engine_time: int, *,
                   reportable: bool = False, user: bytes | None = None, auth: bool = True,
                   priv: bool = True) -> bytes:
    """A message carrying ``pdu`` for ``engine`` with the given boots and time (an agent answers with its own),
    authenticated when the engine has an authentication key and ``auth``, encrypted when it also has a privacy
    key and ``priv``. ``user`` replaces the credentials' user name (an agent's reports echo the request's)."""
    scoped = tlv(0x30, tlv(0x04, engine.engine_id) + b"\x04\x00" + pdu)
    flags = _FLAG_REPORTABLE if reportable else 0
    salt = b""
    auth_key = engine.auth_key if auth else None
    if engine.priv_key is not None and auth_key is not None and priv:
        encrypted, salt = _encrypt(creds, engine, boots, engine_time, scoped)
        scoped = tlv(0x04, encrypted)
        flags |= _FLAG_PRIV
    hash_fn, mac_len = _HASH[creds.auth_proto] if auth_key is not None and creds.auth_proto else (None, 0)
    if hash_fn is not None:
        flags |= _FLAG_AUTH
    name = creds.user.encode() if user is None else user
    usm_head = tlv(0x04, engine.engine_id) + encode_integer(boots) + encode_integer(engine_time) + tlv(0x04, name)
    usm_head += bytes((0x04, mac_len))
    usm_body = usm_head + b"\0" * mac_len + tlv(0x04, salt)
    usm = bytes((0x30,)) + encode_length(len(usm_body)) + usm_body
    msg, usm_offset = _message(msg_id, flags, usm, scoped)
    if hash_fn is None or auth_key is None:  # noAuthNoPriv: no MAC
        return msg
    offset = usm_offset + len(usm) - len(usm_body) + len(usm_head)
    mac = hmac.new(auth_key, msg, hash_fn).digest()[:mac_len]
    return msg[:offset] + mac + msg[offset + mac_len :]


@dataclass(frozen=True, slots=True)
class Header:
    """What an SNMPv3 message says about itself before authentication: enough for an agent to find the user."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    mac: tuple[int, int]
    """Where the MAC's octets are in the message (start, end)."""
    salt: bytes
    body: int
    """Where the scoped PDU (or its encrypted form) starts."""

    @property
    def level(self) -> str:
        """The security level the message's flags claim."""
        if not self.flags & _FLAG_AUTH:
            return "noAuthNoPriv"
        return "authPriv" if self.flags & _FLAG_PRIV else "authNoPriv"

    @property
    def reportable(self) -> bool:
        return bool(self.flags & _FLAG_REPORTABLE)


def read_header(data: bytes) -> Header:
    """Parse an SNMPv3 message's header and USM security parameters; BerError when it is not one."""
    try:
        pos, _ = _read_header(data, 0, 0x30)
        version, pos = read_int(data, pos)
        if version != 3:
            raise BerError("not SNMPv3")
        pos, _ = _read_header(data, pos, 0x30)
        msg_id, pos = read_int(data, pos)
        _, pos = read_int(data, pos)
        flags_raw, pos = read_octets(data, pos)
        model, pos = read_int(data, pos)
        if model != 3 or len(flags_raw) != 1:
            raise BerError("not a USM message")
        sp_start, sp_end = _read_header(data, pos, 0x04)
        p, _ = _read_header(data, sp_start, 0x30)
        engine_id, p = read_octets(data, p)
        boots, p = read_int(data, p)
        engine_time, p = read_int(data, p)
        user, p = read_octets(data, p)
        mac_start, mac_end = _read_header(data, p, 0x04)
        salt, _ = read_octets(data, mac_end)
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None
    return Header(msg_id, flags_raw[0], engine_id, boots, engine_time, user, (mac_start, mac_end), salt, sp_end)


def decode(data: bytes, creds: V3, engine: Engine | None, header: Header | None = None,
           oid: Callable[[bytes], Any] = decode_oid) -> Message:
    """Parse an SNMPv3 message; authenticate and decrypt it with ``engine``'s keys when it is for that
    engine ID. A message that claims authentication for that engine but fails it raises BerError, and so does
    an encrypted one that cannot be authenticated first. ``header``: the message's, when already read; ``oid``:
    how OIDs come out (``ber.decode_pdu``'s)."""
    h = read_header(data) if header is None else header
    try:
        keyed = engine is not None and engine.engine_id == h.engine_id and engine.auth_key is not None
        authenticated = False
        if h.flags & _FLAG_AUTH and keyed:
            assert engine is not None and engine.auth_key is not None and creds.auth_proto is not None
            hash_fn, mac_len = _HASH[creds.auth_proto]
            mac_start, mac_end = h.mac
            if mac_end - mac_start != mac_len:
                raise BerError("bad MAC length")
            zeroed = data[:mac_start] + b"\0" * mac_len + data[mac_end:]
            mac = hmac.new(engine.auth_key, zeroed, hash_fn).digest()[:mac_len]
            if not hmac.compare_digest(mac, data[mac_start:mac_end]):
                raise BerError("authentication failed")
            authenticated = True
        pos = h.body
        if h.flags & _FLAG_PRIV:
            if not authenticated or engine is None or engine.priv_key is None:
                raise BerError("cannot decrypt")
            encrypted, _ = read_octets(data, pos)
            scoped = _decrypt(creds, engine, h.boots, h.time, h.salt, encrypted)
            pos = 0
        else:
            scoped = data
        pos, _ = _read_header(scoped, pos, 0x30)
        _, pos = read_octets(scoped, pos)
        _, pos = read_octets(scoped, pos)
        pdu = decode_pdu(scoped, pos, oid)
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None
    return Message(h.msg_id, h.engine_id, h.boots, h.time, authenticated, bool(h.flags & _FLAG_PRIV), pdu)
