"""Encryption of secrets at rest (SNMP communities and keys, later Wi-Fi passphrases)."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretBoxError(Exception):
    """A stored secret could not be decrypted (wrong secret key or damaged data)."""


class SecretBox:
    """Authenticated encryption (Fernet) under a key derived from noc's secret key and a purpose."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

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
