"""Opt-out tokens: which subscriber refuses which category of notices, signed so that nobody can make one for
someone else (an HMAC tag under a key of its own; reading one needs no database lookup)."""

from __future__ import annotations

import base64
import binascii
import struct

from noc.core.crypto import Signer
from noc.inventory.enums import NOTICE_CATEGORIES

PURPOSE = "maintenance-opt-out-links"
_DATA = struct.Struct(">QB")  # subscriber id, category index


def make_token(signer: Signer, subscriber_id: int, category: str) -> str:
    """The token of the link that opts ``subscriber_id`` out of notices of ``category`` (the same every time)."""
    data = _DATA.pack(subscriber_id, NOTICE_CATEGORIES.index(category))
    return base64.urlsafe_b64encode(data + signer.tag(data)).decode().rstrip("=")


def read_token(signer: Signer, token: str) -> tuple[int, str] | None:
    """(subscriber id, category) of a genuine token; None for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    data, tag = raw[: _DATA.size], raw[_DATA.size:]
    if len(raw) != _DATA.size + Signer.TAG_BYTES or not signer.verify(data, tag):
        return None
    subscriber_id, index = _DATA.unpack(data)
    if index >= len(NOTICE_CATEGORIES):
        return None
    return subscriber_id, NOTICE_CATEGORIES[index]
