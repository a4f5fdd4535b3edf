"""Secondary SSID campaigns: SSID profiles (secrets sealed, isolation always on), eligibility, and campaigns that
provision or remove a community SSID over SNMPv3 authPriv in waves, with dry run, verification, rollback, resume
and drift checks, never touching the subscriber's own SSID."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Secondary (community) SSID campaigns on subscribers' gateways: profiles, eligibility, dry run, verified "
    "provisioning with rollback, resume and drift checks.",
    "models", "router", "jobs", "cli", "demo", "privacy",
)
