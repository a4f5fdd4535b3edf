"""What both sinks share: an in-memory queue that ``write()`` fills and one writer thread that empties it.

:class:`BatchWriter` keeps a bounded FIFO and hands its writer thread batches of ``batch_size`` items, or
whatever waited ``flush_interval`` seconds, or everything at once while a flush or close is pending. The bound
is backpressure, not loss: a ``write()`` that would take the queue past ``max_queue_points`` waits until the
writer has made room (counted in ``producer_waits_total`` and ``producer_wait_seconds_total``); only when the
writer thread is gone are the oldest items dropped (counted in ``points_dropped_total``, logged once). Between
batches the thread runs the sink's one periodic chore (retention for the embedded store, spool replay for
InfluxDB). Items count as settled once their batch was handled, whatever the outcome; :meth:`BatchWriter.flush`
waits for that.

A sink subclasses it, calls :meth:`~BatchWriter._enqueue` from ``write()``, :meth:`~BatchWriter._start` once
and :meth:`~BatchWriter._stop` from ``close()``, and implements :meth:`~BatchWriter._handle` (store one batch
and run the chore if due) and, when it has a chore, :meth:`~BatchWriter._chore_at`.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Sequence
from typing import ClassVar, Generic, TypeVar

T = TypeVar("T")


class BatchWriter(Generic[T], ABC):
    """A bounded queue of items and the thread that stores them in batches; see the module docstring."""

    label: ClassVar[str] = "sink"
    """How log lines and errors name the sink ("influx sink")."""
    unit: ClassVar[str] = "points"
    """What the queued items are, in log lines."""
    logger: ClassVar[logging.Logger] = logging.getLogger(__name__)

    def __init__(
        self, *, batch_size: int, flush_interval: float, max_queue_points: int, counters: Iterable[str] = ()
    ) -> None:
        self.max_queue_points = max_queue_points
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._cond = threading.Condition()  # guards everything below (reentrant)
        self._queue: deque[T] = deque()
        self._queue_since = 0.0  # when the oldest queued item was queued (monotonic)
        self._accepted = 0  # items accepted by _enqueue()
        self._settled = 0  # of those: handled (stored, spooled, rejected) or dropped
        self._flush_target = 0
        self._in_flight = False
        self._stopping = False
        self._closed = False
        self._counters = dict.fromkeys(("points_accepted_total", "points_dropped_total", "producer_waits_total",
                                        "producer_wait_seconds_total", *counters), 0.0)
        self._loss_logged = False
        self._thread: threading.Thread | None = None

    # -- for write(), flush(), close(), stats() ----------------------------------------------------------

    def _start(self, thread_name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def _enqueue(self, items: Sequence[T], skipped: int = 0) -> None:
        """Queue ``items`` (and count ``skipped`` samples the sink could not turn into items); waits while the
        queue has no room for them (backpressure), as long as the writer thread runs."""
        with self._cond:
            if self._stopping:
                raise RuntimeError(f"{self.label} is closed")
            if skipped:
                self._counters["samples_skipped_total"] += skipped
            if not items:
                return
            if self._queue and len(self._queue) + len(items) > self.max_queue_points and self._writer_alive():
                began = time.monotonic()
                self._counters["producer_waits_total"] += 1
                self._cond.notify_all()
                while (self._queue and len(self._queue) + len(items) > self.max_queue_points
                       and not self._stopping and self._writer_alive()):
                    self._cond.wait(1.0)
                self._counters["producer_wait_seconds_total"] += time.monotonic() - began
                if self._stopping:
                    raise RuntimeError(f"{self.label} is closed")
            if not self._queue:  # the writer may be waiting for a chore alone: wake it to time the flush interval
                self._queue_since = time.monotonic()
                self._cond.notify_all()
            self._queue.extend(items)
            self._accepted += len(items)
            self._counters["points_accepted_total"] += len(items)
            overflow = len(self._queue) - self.max_queue_points
            if overflow > 0 and not self._writer_alive():  # nobody will ever store them: bounded memory first
                for _ in range(overflow):
                    self._queue.popleft()
                self._settled += overflow
                self._lost(overflow, "its writer thread has stopped")
            if len(self._queue) >= self.batch_size:
                self._cond.notify_all()

    def room(self) -> int:
        """Items a write takes now without waiting: the queue's free places (approximate: no lock taken)."""
        return max(0, self.max_queue_points - len(self._queue))

    def _writer_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _lost(self, n: int, why: str) -> None:
        """Count ``n`` items as dropped; the first loss (until a batch is stored again) is logged, the rest
        only counted: a poller reports its cycle's losses in one line."""
        with self._cond:
            self._counters["points_dropped_total"] += n
            first = not self._loss_logged
            self._loss_logged = True
        if first:
            self.logger.error("%s: dropped %d %s: %s (further losses are counted in points_dropped_total)",
                              self.label, n, self.unit, why)

    def _stored(self) -> None:
        """A batch was stored: the next loss is logged again."""
        self._loss_logged = False

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every item accepted so far is settled (at most ``timeout`` seconds; None: no limit)."""
        thread = self._thread
        if thread is None:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._accepted
            self._flush_target = max(self._flush_target, target)
            self._cond.notify_all()
            while self._settled < target and thread.is_alive():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                self._cond.wait(remaining)

    def _stop(self) -> bool:
        """Refuse further items, let the writer handle what is queued and wait for it to end; False if this
        was done before."""
        with self._cond:
            if self._closed:
                return False
            self._closed = True
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        return True

    def _snapshot(self) -> dict[str, float]:
        """The counters and the queue length (``queue_points``)."""
        with self._cond:
            out = dict(self._counters)
            out["queue_points"] = float(len(self._queue))
        return out

    def _count(self, name: str, value: int) -> None:
        with self._cond:
            self._counters[name] += value

    # -- for the subclass --------------------------------------------------------------------------------

    def _chore_at(self) -> float | None:
        """When (monotonic) the periodic chore is next due; None: not pending. Called holding the lock."""
        return None

    @abstractmethod
    def _handle(self, batch: list[T], chore_due: bool, stopping: bool) -> None:
        """Store ``batch`` (may be empty), then run the chore when ``chore_due``; ``stopping``: the last batches."""

    # -- writer thread -----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            running = True
            while running:
                running = self._step()
        except Exception:  # a bug must not take the poller down silently
            self.logger.exception("%s: writer thread failed", self.label)
        finally:
            with self._cond:
                self._cond.notify_all()

    def _step(self) -> bool:
        """One unit of work: wait for a due batch or chore, then handle it; False once stopped and empty."""
        with self._cond:
            while True:
                now = time.monotonic()
                forced = self._stopping or self._settled < self._flush_target
                due = bool(self._queue) and (
                    forced or len(self._queue) >= self.batch_size or now - self._queue_since >= self.flush_interval
                )
                chore_at = None if self._stopping else self._chore_at()
                chore_due = chore_at is not None and now >= chore_at
                if due or chore_due:
                    break
                if self._stopping:
                    return False
                waits = [] if chore_at is None else [chore_at - now]
                if self._queue:
                    waits.append(self._queue_since + self.flush_interval - now)
                self._cond.wait(max(0.0, min(waits)) if waits else None)
            batch: list[T] = []
            if due:
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                if self._queue:
                    self._queue_since = now
            self._in_flight = True  # a batch or a chore (a spool replay): drain() waits until its counts are in
            stopping = self._stopping
        try:
            self._handle(batch, chore_due, stopping)
        finally:
            with self._cond:
                self._settled += len(batch)
                self._in_flight = False
                self._cond.notify_all()
        return True
