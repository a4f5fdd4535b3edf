"""Segment capacity: utilization rollups, the 70 % rules and upgrade tickets."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="capacity",
    summary="Utilization rollups from polling's measurements, the 70 % rules, upgrade tickets, capacity report.",
    models="noc.capacity.models",
    wire="noc.capacity.service:wire",
    router="noc.capacity.api:router",
    jobs="noc.capacity.jobs:add_jobs",
)
