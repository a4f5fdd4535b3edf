"""Maintenance: planned works and outages on segments, the subscribers they affect, and the notices they get
(announcement, reminder, update, cancellation, completion; outage start and resolution) by e-mail with opt-out.
Capacity reads the windows to suppress tickets."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Maintenance windows and outages on segments (covering every segment below), with e-mail notices to the "
    "affected subscribers.",
    "models", "router", "pages", "jobs", "demo",
)
