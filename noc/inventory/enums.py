"""Allowed values of the inventory's coded fields."""

from __future__ import annotations

from typing import Literal

Language = Literal["sl", "en"]
NoticeCategory = Literal["maintenance", "network_issues"]
SegmentKind = Literal["access", "aggregation", "core", "international"]
DeviceKind = Literal["router", "cmts", "olt", "switch"]
Direction = Literal["down", "up"]
Counter = Literal["in", "out"]
CredentialVersion = Literal["v2c", "v3"]
AuthProto = Literal["MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"]
PrivProto = Literal["DES", "AES", "AES192", "AES256"]

LANGUAGES: tuple[str, ...] = Language.__args__
NOTICE_CATEGORIES: tuple[str, ...] = NoticeCategory.__args__
SEGMENT_KINDS: tuple[str, ...] = SegmentKind.__args__
DEVICE_KINDS: tuple[str, ...] = DeviceKind.__args__
DIRECTIONS: tuple[str, ...] = Direction.__args__
COUNTERS: tuple[str, ...] = Counter.__args__
CREDENTIAL_VERSIONS: tuple[str, ...] = CredentialVersion.__args__

DEFAULT_COUNTER: dict[str, str] = {"down": "out", "up": "in"}
"""Which octet counter measures a direction when a member does not say: traffic toward subscribers
leaves an access interface (ifOut), traffic from them enters it (ifIn)."""
