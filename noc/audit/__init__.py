"""Append-only audit log with a hash chain."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="audit",
    summary="Append-only audit log with a hash chain; verified daily and on demand.",
    models="noc.audit.models",
    router="noc.audit.api:router",
    jobs="noc.audit.jobs:add_jobs",
    cli="noc.audit.cli:register",
)
