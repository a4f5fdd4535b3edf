"""Segment capacity: utilization rollups, the 70 % rules and upgrade tickets."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Utilization rollups from polling's measurements, the 70 % rules, upgrade tickets, capacity report.",
    "models", "wire", "router", "jobs",
)
