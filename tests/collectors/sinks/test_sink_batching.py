"""BatchWriter, the queue and writer thread both sinks share: batching, overflow, flush, chore, close."""

from __future__ import annotations

import threading
import time

import pytest

from collectors.sinks.batching import BatchWriter


class Recorder(BatchWriter[int]):
    label = "recorder"

    def __init__(self, chore_every: float | None = None, flush_interval: float = 60.0) -> None:
        super().__init__(batch_size=3, flush_interval=flush_interval, max_queue_points=10)
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


def test_a_short_write_goes_after_the_flush_interval_without_a_flush() -> None:
    sink = Recorder(chore_every=3600, flush_interval=0.2)  # the writer waits for its chore, an hour away
    time.sleep(0.2)
    sink._enqueue([1])  # less than a batch, and nobody calls flush(): a segment cycle's few samples
    deadline = time.monotonic() + 30
    while not sink.batches and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sink.batches == [[1]], "the item waited for the chore instead of the flush interval"
    sink._stop()


def test_a_full_queue_slows_the_writer_down_and_drops_nothing() -> None:
    sink = Recorder()
    sink.release.clear()  # the writer blocks on its first batch
    sink._enqueue([0, 1, 2])
    deadline = time.monotonic() + 5
    while sink._queue and time.monotonic() < deadline:
        time.sleep(0.01)
    sink._enqueue(list(range(100, 108)))  # 8 queued, room for 10
    producer = threading.Thread(target=sink._enqueue, args=(list(range(200, 205)),))
    producer.start()
    producer.join(0.3)
    assert producer.is_alive()  # 8 + 5 > 10: the producer waits for room
    sink.release.set()
    producer.join(5)
    assert not producer.is_alive()
    sink.flush(5)
    assert [x for batch in sink.batches for x in batch] == [0, 1, 2, *range(100, 108), *range(200, 205)]
    stats = sink._snapshot()
    assert stats["points_dropped_total"] == 0 and stats["producer_waits_total"] == 1
    assert stats["producer_wait_seconds_total"] >= 0.3
    sink._stop()


class Broken(Recorder):
    def _handle(self, batch: list[int], chore_due: bool, stopping: bool) -> None:
        raise RuntimeError("bug")


def test_without_a_writer_the_oldest_are_dropped_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    sink = Broken()
    sink._enqueue([1, 2, 3])  # a full batch: the writer takes it and dies
    assert sink._thread is not None
    sink._thread.join(5)
    for start in range(0, 30, 6):
        sink._enqueue(list(range(start, start + 6)))
    assert sink._snapshot()["points_dropped_total"] == 20 and len(sink._queue) == 10
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1
    sink.flush(1)
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
