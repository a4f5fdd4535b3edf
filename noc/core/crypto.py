"""Keys derived per purpose from noc's secret key: encryption of secrets at rest (SNMP communities and keys,
later Wi-Fi passphrases) and signatures of links that must not be guessable (opt-out links)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived from ``secret_key`` (HKDF-SHA256): one purpose's key reveals
    nothing about another's."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())


class NoSecretKey(Exception):
    """A session was asked for a derived key but its database has no secret key attached."""


def session_key(session: Session, purpose: str) -> bytes:
    """The key for ``purpose`` derived from the secret key attached to ``session``'s database
    (:meth:`noc.core.db.Database.attach_secret`; a runtime and the CLI attach it)."""
    from noc.core.db import DERIVED_KEYS_INFO, SECRET_KEY_INFO

    keys: dict[str, bytes] | None = session.info.get(DERIVED_KEYS_INFO)
    secret = session.info.get(SECRET_KEY_INFO)
    if keys is None or secret is None:
        raise NoSecretKey("no secret key attached to this database (Database.attach_secret)")
    if purpose not in keys:
        keys[purpose] = derive_key(secret(), purpose)
    return keys[purpose]


class SecretBoxError(Exception):
    """A stored secret could not be decrypted (wrong secret key or damaged data)."""


class SecretBox:
    """Authenticated encryption (Fernet) under a key derived from noc's secret key and a purpose."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, purpose)))

    def seal(self, values: dict[str, str]) -> str:
        """Encrypt a small dict of secret strings."""
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        """Decrypt what :meth:`seal` produced."""
        try:
            values: dict[str, str] = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise SecretBoxError("stored secret cannot be decrypted with this secret key") from None
        return values

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


class Signer:
    """HMAC-SHA256 tags under a key derived from noc's secret key and a purpose (unforgeable without the key)."""

    TAG_BYTES = 16

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._key = derive_key(secret_key, purpose)

    def tag(self, data: bytes) -> bytes:
        """The tag of ``data`` (the first :attr:`TAG_BYTES` bytes of its HMAC-SHA256)."""
        return hmac.new(self._key, data, hashlib.sha256).digest()[: self.TAG_BYTES]

    def verify(self, data: bytes, tag: bytes) -> bool:
        """Whether ``tag`` is the tag of ``data`` (compared in constant time)."""
        return hmac.compare_digest(self.tag(data), tag)

    def __repr__(self) -> str:
        return "Signer(<key hidden>)"
