"""Users, roles and API tokens."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="auth",
    summary="Users, roles and API tokens; resolves a request's token to its caller.",
    models="noc.auth.models",
    wire="noc.auth.service:wire",
    router="noc.auth.api:router",
    cli="noc.auth.cli:register",
    demo="noc.auth.demo:DEMO",
)
