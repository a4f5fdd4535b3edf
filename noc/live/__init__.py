"""Live CPE checks for support agents: an identified caller, a time-boxed session, streamed readings, a closing note."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Live CPE sessions: caller identification, consent, recorded contact and reason, streamed readings with "
    "verdicts and hints, closing note; every look audited.",
    "models", "router", "pages", "jobs", "demo", "privacy",
)
