"""The interface pollers write samples through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from collectors.samples import Sample


@runtime_checkable
class Sink(Protocol):
    """Where samples go. Every method is thread-safe."""

    def write(self, samples: Sequence[Sample]) -> None:
        """Accept ``samples`` without blocking on I/O (they are queued; a writer thread stores them); waits while
        the queue is full (see ``room``)."""
        ...

    def room(self) -> int:
        """How many samples ``write()`` takes now without waiting for its writer (backpressure)."""
        ...

    def flush(self, timeout: float | None = None) -> None:
        """Wait (at most ``timeout`` seconds; None: no limit) until the samples accepted so far are stored."""
        ...

    def close(self) -> None:
        """Flush, stop the writer and release files and connections; later writes raise RuntimeError."""
        ...

    def stats(self) -> dict[str, float]:
        """Counters (names ending in ``_total``) and gauges for Prometheus; see ``metrics.SinkCollector``."""
        ...
