"""Subscribers, packages, contracts, devices, CPEs, segments and SNMP credentials."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Subscribers, packages, contracts, devices, CPEs, segments and SNMP credentials.",
    "models", "router", "cli", "demo", "privacy",
)
