"""BatchWriter, the queue and writer thread both sinks share: batching, overflow, flush, chore, close."""

from __future__ import annotations

import threading
import time

import pytest

from collectors.sinks.batching import BatchWriter


class Recorder(BatchWriter[int]):
    label = "recorder"

    def __init__(self, chore_every: float | None = None) -> None:
        super().__init__(batch_size=3, flush_interval=60.0, max_queue_points=10)
        self.batches: list[list[int]] = []
        self.chores = 0
        self.release = threading.Event()
        self.release.set()
        self._chore_every = chore_every
        self._next_chore = time.monotonic()
        self._start("recorder")

    def _chore_at(self) -> float | None:
        return None if self._chore_every is None else self._next_chore

    def _handle(self, batch: list[int], chore_due: bool, stopping: bool) -> None:
        self.release.wait()
        if batch:
            self.batches.append(batch)
        if chore_due:
            self.chores += 1
            self._next_chore = time.monotonic() + (self._chore_every or 0)


def test_full_batches_go_at_once_and_flush_takes_the_rest() -> None:
    sink = Recorder()
    sink._enqueue([1, 2, 3, 4])
    sink.flush(5)
    assert sink.batches == [[1, 2, 3], [4]]
    stats = sink._snapshot()
    assert (stats["points_accepted_total"], stats["queue_points"]) == (4, 0)
    sink._stop()


def test_overflow_drops_the_oldest_and_flush_still_returns() -> None:
    sink = Recorder()
    sink.release.clear()  # the writer blocks on its first batch
    sink._enqueue([0, 1, 2])
    deadline = time.monotonic() + 5
    while sink._queue and time.monotonic() < deadline:
        time.sleep(0.01)
    sink._enqueue(list(range(100, 112)))  # 12 queued, room for 10
    assert sink._snapshot()["points_dropped_total"] == 2
    sink.release.set()
    sink.flush(5)
    assert [x for batch in sink.batches for x in batch] == [0, 1, 2, *range(102, 112)]
    sink._stop()


def test_chore_runs_on_schedule_without_writes() -> None:
    sink = Recorder(chore_every=0.05)
    time.sleep(0.3)
    sink._stop()
    assert sink.chores >= 3


def test_close_handles_what_is_queued_then_refuses_writes() -> None:
    sink = Recorder()
    sink._enqueue([7])
    assert sink._stop() is True
    assert sink.batches == [[7]]
    assert sink._stop() is False
    with pytest.raises(RuntimeError, match="recorder is closed"):
        sink._enqueue([8])
