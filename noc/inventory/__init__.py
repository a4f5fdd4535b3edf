"""Subscribers, packages, contracts, devices, CPEs, segments and SNMP credentials."""

from noc.core.capability import Capability

CAPABILITY = Capability(
    name="inventory",
    summary="Subscribers, packages, contracts, devices, CPEs, segments and SNMP credentials.",
    models="noc.inventory.models",
    router="noc.inventory.api:router",
    cli="noc.inventory.cli:register",
    demo="noc.inventory.demo:DEMO",
)
