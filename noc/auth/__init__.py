"""Users, roles and API tokens."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Users, roles and API tokens; resolves a request's token to its caller.",
    "models", "wire", "router", "cli", "demo",
)
