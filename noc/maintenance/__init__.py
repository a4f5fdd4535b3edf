"""Planned maintenance windows: which segments, when, why; capacity reads them to suppress tickets."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Planned maintenance windows on segments (they cover every segment below).",
    "models", "router",
)
