"""Planned maintenance windows: which segments, when, why; capacity reads them to suppress tickets."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="maintenance",
    summary="Planned maintenance windows on segments (they cover every segment below).",
    models="noc.maintenance.models",
    router="noc.maintenance.api:router",
)
