"""Privacy: subject access and portability, erasure with holds, retention, and the records of processing."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Subject access and portability exports, erasure (refused under a hold), legal holds, the daily retention job "
    "and the records of processing, over every capability's personal-data part.",
    "models", "router", "jobs", "cli", "privacy",
)
