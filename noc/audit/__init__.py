"""Append-only audit log with a hash chain."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Append-only audit log with a hash chain; verified daily and on demand.",
    "models", "router", "jobs", "cli", "privacy",
)
