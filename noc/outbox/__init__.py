"""The outbox: every message noc sends (webhooks, e-mail) is queued durably and dispatched with retries."""

from noc.core.capability import Capability

CAPABILITY = Capability.of(
    __name__,
    "Durable outbox of everything noc sends, dispatched with retries and dead letters.",
    "models", "jobs", "privacy",
)
