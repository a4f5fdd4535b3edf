"""Speed complaints: measurements, discrepancy records per the regulator's method, deadlines, evidence packs."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Measurements, discrepancy records per the regulator's method, complaint cases with deadlines, evidence "
    "capture, evidence packs and the complaint console.",
    "models", "router", "pages", "jobs", "cli", "demo", "privacy",
)
