"""A bounded, durable FIFO of line-protocol batches on disk: what a sink keeps while its server is away.

Layout of the directory: segment files ``<seq>.seg`` (append-only records), ``cursor`` (the segment and
byte offset of the first record not yet delivered, replaced atomically) and ``lock`` (an exclusive
``flock`` so two sinks never share a spool). A record is a 16-byte header (magic, payload length, points,
CRC-32 of points and payload) followed by the payload (lines joined by ``\\n``).

Guarantees: a record whose :meth:`Spool.append` returned is on disk (fsync'd unless ``fsync=False``);
:meth:`Spool.commit` records progress durably before it returns, so after a crash at most the record that
was in flight is read again. A torn record at a segment's end (crash mid-append) is cut off on open.
When appending would pass ``max_bytes``, whole segments are dropped oldest first and their undelivered
points counted in ``dropped_points``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<4sIII")
_MAGIC = b"NOCs"
_SUFFIX = ".seg"


class SpoolLockedError(RuntimeError):
    """Another sink (this process or another) holds the spool directory."""


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One stored batch: where it sits, how many points it holds, and its line-protocol payload."""

    segment: int
    offset: int
    size: int
    points: int
    payload: bytes


@dataclass(slots=True)
class _Segment:
    seq: int
    size: int
    points: int
    consumed_points: int = 0


def _crc(points: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(points.to_bytes(4, "little")))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Segmented on-disk FIFO of batches with a durable read cursor and a byte bound (drop oldest)."""

    def __init__(
        self, directory: Path, max_bytes: int = 512 * 2**20, segment_bytes: int | None = None, fsync: bool = True
    ) -> None:
        if max_bytes < 4096:
            raise ValueError("max_bytes must be at least 4096")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or max(4096, min(16 * 2**20, max_bytes // 8))
        self.fsync = fsync
        self.dropped_points = 0
        self._lock = threading.RLock()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolLockedError(f"spool {self.directory} is in use by another sink") from None
        self._segments: list[_Segment] = []
        self._cursor_seq = 0
        self._cursor_offset = 0
        self._tail_fd: int | None = None
        self._head_fd: tuple[int, int] | None = None  # (seq, fd)
        self._closed = False
        self._open()

    # -- state -------------------------------------------------------------------------------------------

    @property
    def points(self) -> int:
        """Points stored and not yet committed."""
        with self._lock:
            return sum(s.points - s.consumed_points for s in self._segments)

    @property
    def size_bytes(self) -> int:
        """Bytes the segment files take on disk (the quantity ``max_bytes`` bounds)."""
        with self._lock:
            return sum(s.size for s in self._segments)

    @property
    def empty(self) -> bool:
        """Whether every stored record has been committed (or dropped)."""
        with self._lock:
            return not any(s.points - s.consumed_points for s in self._segments)

    # -- operations --------------------------------------------------------------------------------------

    def append(self, lines: Sequence[bytes]) -> None:
        """Store ``lines`` as one record at the tail, dropping the oldest segments if the bound demands."""
        if not lines:
            return
        payload = b"\n".join(lines)
        points = len(lines)
        record = _HEADER.pack(_MAGIC, len(payload), points, _crc(points, payload)) + payload
        with self._lock:
            self._check_open()
            if len(record) > self.max_bytes:
                log.error("spool: a batch of %d points (%d bytes) exceeds the spool bound; dropped", points,
                          len(record))
                self.dropped_points += points
                return
            while self._segments and self.size_bytes + len(record) > self.max_bytes:
                self._drop_head()
            tail, fd = self._tail_for_append()
            try:
                view = memoryview(record)
                while view:
                    view = view[os.write(fd, view) :]
                if self.fsync:
                    os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, tail.size)  # leave no partial record behind
                raise
            tail.size += len(record)
            tail.points += points

    def peek(self) -> SpoolRecord | None:
        """The oldest uncommitted record, or None when the spool is empty."""
        with self._lock:
            self._check_open()
            while self._segments:
                head = self._segments[0]
                if self._cursor_seq != head.seq:
                    self._cursor_seq, self._cursor_offset = head.seq, 0
                if self._cursor_offset >= head.size:
                    if len(self._segments) == 1:
                        return None
                    self._retire_head()
                    continue
                record = self._read(head, self._cursor_offset)
                if record is not None:
                    return record
                log.error("spool: segment %d is damaged at offset %d; skipping the rest of it", head.seq,
                          self._cursor_offset)
                self.dropped_points += head.points - head.consumed_points
                head.consumed_points = head.points
                self._cursor_offset = head.size
                self._write_cursor()
            return None

    def commit(self, record: SpoolRecord) -> None:
        """Mark ``record`` (the one :meth:`peek` returned) delivered; durable when this returns."""
        with self._lock:
            self._check_open()
            if not self._segments or (record.segment, record.offset) != (self._cursor_seq, self._cursor_offset):
                return  # dropped by the bound meanwhile
            head = self._segments[0]
            self._cursor_offset = record.offset + record.size
            head.consumed_points += record.points
            self._write_cursor()
            if self._cursor_offset >= head.size:
                self._retire_head()

    def close(self) -> None:
        """Close the files and release the directory lock; stored records stay for the next opener."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_head_fd()
            if self._tail_fd is not None:
                os.close(self._tail_fd)
                self._tail_fd = None
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)

    # -- internals ---------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("spool is closed")

    def _path(self, seq: int) -> Path:
        return self.directory / f"{seq:012d}{_SUFFIX}"

    def _open(self) -> None:
        self._read_cursor()
        seqs = sorted(int(p.stem) for p in self.directory.glob(f"*{_SUFFIX}") if p.stem.isdigit())
        for seq in seqs:
            if seq < self._cursor_seq:
                self._path(seq).unlink()  # delivered or dropped before a crash cut the clean-up short
        seqs = [s for s in seqs if s >= self._cursor_seq]
        if seqs and seqs[0] != self._cursor_seq:
            self._cursor_seq, self._cursor_offset = seqs[0], 0
        for seq in seqs:
            self._segments.append(self._scan(seq))
        if self._segments:
            head = self._segments[0]
            if self._cursor_offset >= head.size:
                head.consumed_points = head.points
            if len(self._segments) > 1 and head.consumed_points == head.points:
                self._retire_head()
        if not self.empty:
            log.info("spool %s: %d points (%d bytes) waiting from a previous run", self.directory, self.points,
                     self.size_bytes)

    def _scan(self, seq: int) -> _Segment:
        """Index a segment, cutting off a torn or damaged end; count points before the cursor as consumed."""
        path = self._path(seq)
        data = path.read_bytes()
        segment = _Segment(seq=seq, size=0, points=0)
        offset = 0
        while offset + _HEADER.size <= len(data):
            magic, length, points, crc = _HEADER.unpack_from(data, offset)
            end = offset + _HEADER.size + length
            if magic != _MAGIC or end > len(data) or _crc(points, data[offset + _HEADER.size : end]) != crc:
                break
            if seq == self._cursor_seq and offset < self._cursor_offset:
                segment.consumed_points += points
                if end > self._cursor_offset:  # a cursor inside a record: never written by us; redeliver it
                    segment.consumed_points -= points
                    self._cursor_offset = offset
            segment.points += points
            offset = end
        if offset < len(data):
            log.warning("spool: cutting %d damaged or torn bytes off segment %d", len(data) - offset, seq)
            with open(path, "r+b") as handle:
                handle.truncate(offset)
                handle.flush()
                os.fsync(handle.fileno())
        segment.size = offset
        if seq == self._cursor_seq and self._cursor_offset > offset:
            self._cursor_offset = offset
        return segment

    def _read(self, head: _Segment, offset: int) -> SpoolRecord | None:
        if self._head_fd is None or self._head_fd[0] != head.seq:
            self._close_head_fd()
            self._head_fd = (head.seq, os.open(self._path(head.seq), os.O_RDONLY))
        fd = self._head_fd[1]
        header = os.pread(fd, _HEADER.size, offset)
        if len(header) != _HEADER.size:
            return None
        magic, length, points, crc = _HEADER.unpack(header)
        if magic != _MAGIC:
            return None
        payload = os.pread(fd, length, offset + _HEADER.size)
        if len(payload) != length or _crc(points, payload) != crc:
            return None
        return SpoolRecord(head.seq, offset, _HEADER.size + length, points, payload)

    def _tail_for_append(self) -> tuple[_Segment, int]:
        """The segment to append to (a new one when the last is full) and its open descriptor."""
        tail = self._segments[-1] if self._segments else None
        if tail is None or tail.size >= self.segment_bytes:
            if self._tail_fd is not None:
                os.close(self._tail_fd)
                self._tail_fd = None
            seq = tail.seq + 1 if tail is not None else self._cursor_seq + 1
            tail = _Segment(seq=seq, size=0, points=0)
            self._segments.append(tail)
            if len(self._segments) == 1:
                self._cursor_seq, self._cursor_offset = seq, 0
        if self._tail_fd is None:
            self._tail_fd = os.open(self._path(tail.seq), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if self.fsync and tail.size == 0:
                _fsync_dir(self.directory)
        return tail, self._tail_fd

    def _drop_head(self) -> None:
        """Drop the oldest segment (the bound is reached), counting its undelivered points."""
        head = self._segments[0]
        lost = head.points - head.consumed_points
        self.dropped_points += lost
        log.warning("spool full (%d bytes): dropped the oldest %d points", self.max_bytes, lost)
        self._retire_head()

    def _retire_head(self) -> None:
        """Remove the head segment: move the cursor past it durably, then delete the file."""
        head = self._segments.pop(0)
        if head.seq == (self._head_fd or (None,))[0]:
            self._close_head_fd()
        if not self._segments and self._tail_fd is not None:
            os.close(self._tail_fd)
            self._tail_fd = None
        self._cursor_seq = self._segments[0].seq if self._segments else head.seq + 1
        self._cursor_offset = 0
        self._write_cursor()
        with contextlib.suppress(FileNotFoundError):
            self._path(head.seq).unlink()

    def _close_head_fd(self) -> None:
        if self._head_fd is not None:
            os.close(self._head_fd[1])
            self._head_fd = None

    def _read_cursor(self) -> None:
        cursor = self.directory / "cursor"
        if not cursor.exists():
            return
        try:
            data = json.loads(cursor.read_text())
            self._cursor_seq, self._cursor_offset = int(data["segment"]), int(data["offset"])
        except (ValueError, KeyError, TypeError):
            log.error("spool: unreadable cursor in %s; replaying from the oldest segment", self.directory)

    def _write_cursor(self) -> None:
        tmp = self.directory / "cursor.tmp"
        with open(tmp, "w") as handle:
            json.dump({"segment": self._cursor_seq, "offset": self._cursor_offset}, handle)
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, self.directory / "cursor")
        if self.fsync:
            _fsync_dir(self.directory)
