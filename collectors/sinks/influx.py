"""InfluxSink: samples to InfluxDB 2 (``/api/v2/write``) with an on-disk spool for outages.

One writer thread owns all I/O, which is what makes the ordering guarantee simple:

* ``write()`` only encodes line protocol and appends to an in-memory FIFO (bounded: ``max_queue_points``;
  a write that would go beyond it waits for the writer: backpressure, nothing dropped).
* While the spool is empty, the writer sends batches of ``WriteOptions.batch_size`` lines (or whatever
  accumulated after ``flush_interval`` ms) with the client's retry strategy (``WriteOptions`` retries,
  exponential backoff, ``Retry-After``), gzip (:data:`GZIP_LEVEL`), second precision. A batch the client gave
  up on (connection refused, timeouts, 5xx/429, 401/403/404) is appended to the spool once, by that same thread.
* While the spool is non-empty, new batches go to its tail and the writer replays its head one record at
  a time (single attempts, backoff between failures: ``retry_interval`` doubling up to ``max_retry_delay``),
  committing the cursor durably after each accepted record. Live writes resume only once the spool is empty,
  so points reach the server in the order they were written.
* 400/413/422 answers mean the server will never take that batch: it is dropped and counted as rejected
  (InfluxDB OSS still stores the valid lines of a 400 partial write).

Honest limits: HTTP is at-least-once. A request that timed out may have been applied, and a crash after a
replayed record was accepted but before its cursor commit re-sends that one record (at most ``batch_size``
points). InfluxDB overwrites a point with the same measurement, tag set, field and timestamp, so such a
re-send leaves no visible duplicate there (VictoriaMetrics without ``-dedup.minScrapeInterval`` would keep
it). Points still in memory are lost if the process dies without ``close()``/``flush()``; the spool cannot
help with a server that acknowledges writes it later loses.
"""

from __future__ import annotations

import gzip
import logging
import random
import time
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import WriteOptions
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.service.write_service import WriteService

from collectors.samples import Sample
from collectors.sinks.batching import BatchWriter
from collectors.sinks.lineproto import to_lines
from collectors.sinks.spool import Spool

log = logging.getLogger(__name__)

REJECTED_STATUSES = frozenset({400, 413, 422})
"""Answers after which a batch is dropped rather than kept: the server will never accept it."""
GZIP_LEVEL = 1
"""Compression of a request body. Line protocol still shrinks about 9:1 at level 1, in a quarter of the time of
level 9 (what influxdb-client's ``enable_gzip`` uses): 0.02 against 0.10 ms of CPU per CPE of a fleet cycle."""


class SecretLike(Protocol):
    """Anything holding a secret behind ``get_secret_value()`` (e.g. pydantic ``SecretStr``)."""

    def get_secret_value(self) -> str: ...


def default_write_options() -> WriteOptions:
    """Batches of 5000 lines (what InfluxDB recommends) or 1 s; 3 retries from 1 s doubling to at most 8 s and 20 s
    in all. Fewer, larger requests also keep the writer thread from taking the GIL from the poller at every socket
    call: a 30,000-CPE cycle took 14 % less time than with batches of 1000."""
    return WriteOptions(
        batch_size=5000,
        flush_interval=1_000,
        max_retries=3,
        retry_interval=1_000,
        max_retry_delay=8_000,
        max_retry_time=20_000,
        exponential_base=2,
        jitter_interval=0,
    )


def redact_url(url: str) -> str:
    """``url`` without user information (``user:password@``)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def _quiet_client(**kwargs: object) -> InfluxDBClient:
    """An InfluxDBClient, keeping the levels of the loggers its constructor resets to WARNING (urllib3's too).

    Its ``debug`` mode (which would log request headers) stays off.
    """
    prefixes = ("influxdb_client", "urllib3")

    def loggers() -> dict[str, logging.Logger]:
        items = list(logging.Logger.manager.loggerDict.items())
        return {n: lg for n, lg in items if isinstance(lg, logging.Logger) and n.startswith(prefixes)}

    levels = {name: logger.level for name, logger in loggers().items()}
    try:
        return InfluxDBClient(**kwargs)  # type: ignore[arg-type]
    finally:
        for name, logger in loggers().items():
            logger.setLevel(levels.get(name, logging.NOTSET))


class _Outcome(Enum):
    OK = "ok"
    REJECTED = "rejected"
    FAILED = "failed"


class InfluxSink(BatchWriter[bytes]):
    """A :class:`~collectors.sinks.protocol.Sink` writing to InfluxDB 2 with a durable spool for outages."""

    label = "influx sink"
    unit = "points"
    logger = log

    def __init__(
        self,
        url: str,
        org: str,
        bucket: str,
        token: str | SecretLike | None,
        spool_dir: Path,
        *,
        write_options: WriteOptions | None = None,
        spool_max_bytes: int = 512 * 2**20,
        spool_segment_bytes: int | None = None,
        spool_fsync: bool = True,
        max_queue_points: int = 200_000,
        timeout: float = 10.0,
    ) -> None:
        self.options = write_options or default_write_options()
        super().__init__(
            batch_size=self.options.batch_size,
            flush_interval=self.options.flush_interval / 1000,
            max_queue_points=max_queue_points,
            counters=(
                "points_written_total",
                "points_replayed_total",
                "points_spooled_total",
                "points_rejected_total",
                "samples_skipped_total",
                "write_failures_total",
            ),
        )
        secret = token.get_secret_value() if token is not None and not isinstance(token, str) else token
        self._secret = secret or ""
        self.url = redact_url(url)
        self.org = org
        self.bucket = bucket
        self._spool = Spool(Path(spool_dir), spool_max_bytes, spool_segment_bytes, spool_fsync)
        self._client = _quiet_client(url=url, token=secret, org=org, enable_gzip=False, timeout=int(timeout * 1000))
        self._service = WriteService(self._client.api_client)
        self._next_replay = 0.0
        self._backoff = self.options.retry_interval / 1000
        self._failing = False
        self._last_success = 0.0
        self._start("noc-influx-sink")

    def __repr__(self) -> str:
        return f"InfluxSink(url={self.url!r}, org={self.org!r}, bucket={self.bucket!r}, token='***')"

    # -- Sink --------------------------------------------------------------------------------------------

    def write(self, samples: Sequence[Sample]) -> None:
        """Queue ``samples``; never waits for the network or the disk."""
        lines, skipped = to_lines(samples)
        self._enqueue(lines, skipped)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or spooled (all delivered); False if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flush_target = max(self._flush_target, self._accepted)
            self._cond.notify_all()
            while self._queue or self._in_flight or not self._spool.empty:
                if self._thread is None or not self._thread.is_alive():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is None else min(remaining, 0.5))
            return True

    def close(self) -> None:
        """Send or spool what is queued (one attempt), stop; an unsent spool stays on disk for the next sink."""
        if not self._stop():
            return
        self._spool.close()
        self._client.close()

    def stats(self) -> dict[str, float]:
        """Counters and gauges: queue, spool (points, bytes), delivery, drops, last success time."""
        with self._cond:
            out = self._snapshot()
            out["points_dropped_total"] += self._spool.dropped_points
            out["last_success_timestamp_seconds"] = self._last_success
            out["up"] = 0.0 if self._failing else 1.0
        out["spool_points"] = float(self._spool.points)
        out["spool_bytes"] = float(self._spool.size_bytes)
        out["spool_max_bytes"] = float(self._spool.max_bytes)
        return out

    # -- writer thread -----------------------------------------------------------------------------------

    def _chore_at(self) -> float | None:
        return None if self._spool.empty else self._next_replay

    def _handle(self, batch: list[bytes], chore_due: bool, stopping: bool) -> None:
        """Send a batch live, or spool it behind the spool's records; then replay the spool's head if due."""
        if batch and self._spool.empty:
            self._deliver(batch, retry=not stopping)
        elif batch:
            self._to_spool(batch)
        if chore_due:
            self._replay_one()

    def _deliver(self, batch: list[bytes], retry: bool) -> None:
        outcome = self._post(b"\n".join(batch), retry)
        if outcome is _Outcome.OK:
            self._stored()
            self._count("points_written_total", len(batch))
        elif outcome is _Outcome.REJECTED:
            self._count("points_rejected_total", len(batch))
        else:
            self._to_spool(batch)
            self._next_replay = time.monotonic() + self._backoff

    def _to_spool(self, batch: list[bytes]) -> None:
        try:
            self._spool.append(batch)
        except OSError as exc:
            self._lost(len(batch), f"cannot spool them: {exc}")
            return
        self._stored()
        self._count("points_spooled_total", len(batch))

    def _replay_one(self) -> None:
        record = self._spool.peek()
        if record is None:
            return
        outcome = self._post(record.payload, retry=False)
        if outcome is _Outcome.FAILED:
            self._next_replay = time.monotonic() + self._backoff * (0.5 + random.random() / 2)
            self._backoff = min(self._backoff * self.options.exponential_base, self.options.max_retry_delay / 1000)
            return
        self._spool.commit(record)
        self._backoff = self.options.retry_interval / 1000
        self._next_replay = 0.0
        if outcome is _Outcome.OK:
            self._count("points_written_total", record.points)
            self._count("points_replayed_total", record.points)
            if self._spool.empty:
                log.info("influx sink: spool replayed; writing live again")
        else:
            self._count("points_rejected_total", record.points)

    def _post(self, payload: bytes, retry: bool) -> _Outcome:
        """Send one batch; with ``retry`` under the client's retry strategy, else a single attempt."""
        retries = self.options.to_retry_strategy() if retry else False
        try:
            self._service.post_write(
                org=self.org,
                bucket=self.bucket,
                body=gzip.compress(payload, compresslevel=GZIP_LEVEL),
                precision=WritePrecision.S,
                content_type="text/plain; charset=utf-8",
                content_encoding="gzip",
                urlopen_kw={"retries": retries},
            )
        except Exception as exc:
            status = getattr(exc, "status", None)
            if isinstance(status, int) and status in REJECTED_STATUSES:
                log.error("influx sink: server rejected a batch (HTTP %d): %s", status, self._redact(exc))
                self._note(ok=True)
                return _Outcome.REJECTED
            self._count("write_failures_total", 1)
            if not self._failing:
                log.warning("influx sink: %s unreachable (%s); spooling", self.url, self._redact(exc))
            self._note(ok=False)
            return _Outcome.FAILED
        if self._failing:
            log.info("influx sink: %s answers again", self.url)
        self._note(ok=True)
        return _Outcome.OK

    def _note(self, ok: bool) -> None:
        with self._cond:
            self._failing = not ok
            if ok:
                self._last_success = time.time()

    def _redact(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        return text.replace(self._secret, "***") if self._secret else text
