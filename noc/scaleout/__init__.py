"""Scale-out polling: poller groups as Celery queues on a Redis broker, one leader scheduling cycles in batches,
counter state shared in Redis so rates stay valid whichever worker polls a target."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Poller groups and workers on Celery + Redis: a leader sends each cycle's batches, workers poll them once.",
    "router", "jobs",
)
