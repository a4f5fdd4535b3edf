"""Allowed values of the inventory's coded fields."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["sl", "en"]
NoticeCategory = Literal["maintenance", "network_issues"]
SegmentKind = Literal["access", "aggregation", "core", "international"]
DeviceKind = Literal["router", "cmts", "olt", "switch"]
Direction = Literal["down", "up"]
Counter = Literal["in", "out"]
CredentialVersion = Literal["v2c", "v3"]

LANGUAGES: tuple[str, ...] = get_args(Language)
NOTICE_CATEGORIES: tuple[str, ...] = get_args(NoticeCategory)
SEGMENT_KINDS: tuple[str, ...] = get_args(SegmentKind)
DEVICE_KINDS: tuple[str, ...] = get_args(DeviceKind)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
COUNTERS: tuple[str, ...] = get_args(Counter)
CREDENTIAL_VERSIONS: tuple[str, ...] = get_args(CredentialVersion)

DEFAULT_COUNTER: dict[str, str] = {"down": "out", "up": "in"}
"""Which octet counter measures a direction when a member does not say: traffic toward subscribers
leaves an access interface (ifOut), traffic from them enters it (ifIn)."""
