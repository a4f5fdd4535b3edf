"""In-process events between capabilities: one publishes what happened, others subscribe to it.

A capability never writes another's tables; it publishes an event (polling: "segments measured") or asks
for a check (inventory: "a segment is about to be written") and the owning capability acts on it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from noc.core import metrics

log = logging.getLogger("noc.events")
E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    """Subscribers by event type; handlers run synchronously in the publisher's thread, in subscription order."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Call ``handler`` with every event of ``event_type`` published or checked from now on."""
        self._handlers[event_type].append(handler)

    def publish(self, event: object) -> int:
        """Tell every subscriber; one failing subscriber is logged and counted and does not stop the others.

        Returns how many handlers failed (``noc_event_handler_failures_total`` counts them too).
        """
        failed = 0
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception:
                failed += 1
                name = getattr(handler, "__qualname__", repr(handler))
                metrics.EVENT_FAILURES.labels(type(event).__name__, name).inc()
                log.exception("%s: handler %s failed", type(event).__name__, name)
        return failed

    def check(self, event: object) -> None:
        """Ask every subscriber to check ``event``; the first one that raises stops the caller's change."""
        for handler in self._handlers.get(type(event), ()):
            handler(event)
