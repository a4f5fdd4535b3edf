"""The on-disk spool: FIFO order, durable cursor, torn tails, the byte bound, the directory lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from collectors.sinks.spool import Spool, SpoolLockedError


def _batch(start: int, n: int) -> list[bytes]:
    return [f"m seq={i}i {i}".encode() for i in range(start, start + n)]


def _drain(spool: Spool) -> list[bytes]:
    out: list[bytes] = []
    while (record := spool.peek()) is not None:
        out.extend(record.payload.split(b"\n"))
        spool.commit(record)
    return out


def test_fifo_across_segments_and_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    for k in range(50):
        spool.append(_batch(k * 10, 10))
    assert spool.points == 500
    assert len(list(tmp_path.glob("*.seg"))) > 1
    first = spool.peek()
    assert first is not None
    spool.commit(first)
    spool.close()

    again = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    assert again.points == 490
    assert _drain(again) == _batch(10, 490)
    assert again.empty and again.points == 0
    assert again.size_bytes == 0
    assert list(tmp_path.glob("*.seg")) == []
    again.append(_batch(1000, 3))
    assert _drain(again) == _batch(1000, 3)
    again.close()


def test_a_crash_replays_at_most_the_record_in_flight(tmp_path: Path) -> None:
    """A process appends 20 records, delivers 7 (commit), peeks the 8th and dies without closing."""
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from collectors.sinks.spool import Spool
        s = Spool(Path({str(tmp_path)!r}), max_bytes=1 << 20, segment_bytes=4096)
        for k in range(20):
            s.append([f"m seq={{i}}i {{i}}".encode() for i in range(k * 5, k * 5 + 5)])
        for _ in range(7):
            s.commit(s.peek())
        s.peek()
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[3])
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    assert _drain(spool) == _batch(35, 65)
    spool.close()


def test_torn_tail_is_cut_off(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(_batch(0, 3))
    spool.append(_batch(3, 3))
    spool.close()
    segment = sorted(tmp_path.glob("*.seg"))[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # the second record lost its end in a crash
    again = Spool(tmp_path, max_bytes=1 << 20)
    assert again.points == 3
    again.append(_batch(6, 2))
    assert _drain(again) == _batch(0, 3) + _batch(6, 2)
    again.close()


def test_bound_drops_oldest_whole_segments_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=16384, segment_bytes=4096)
    for k in range(200):
        spool.append(_batch(k * 10, 10))
    assert spool.size_bytes <= 16384
    assert spool.dropped_points > 0
    assert spool.points + spool.dropped_points == 2000
    kept = _drain(spool)
    assert kept == _batch(2000 - len(kept), len(kept))  # the newest, contiguous
    spool.close()


def test_one_spool_one_owner(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(SpoolLockedError):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()
