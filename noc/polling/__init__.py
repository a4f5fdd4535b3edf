"""Poll cycles: which devices to poll, when, and what became of each poll; CPE fleet health."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Segment and CPE poll cycles, poll status, CPE fleet health; publishes segment measurements.",
    "models", "router", "jobs", "cli", "privacy",
)
