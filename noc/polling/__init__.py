"""Poll cycles: which devices to poll, when, and what became of each poll; CPE fleet health."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="polling",
    summary="Segment and CPE poll cycles, poll status, CPE fleet health; publishes segment measurements.",
    models="noc.polling.models",
    router="noc.polling.api:router",
    jobs="noc.polling.jobs:add_jobs",
    cli="noc.polling.cli:register",
)
