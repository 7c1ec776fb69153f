"""Each worker's watermark (every request it sent before it is recorded) and the live tail's."""

from __future__ import annotations

import math
from pathlib import Path

from harness.load.chunks import (
    InFlight,
    SampleBuffer,
    merge_chunks,
    read_watermarks,
    write_chunk,
    write_watermark,
)
from harness.load.live import LiveTail


def test_the_watermark_waits_for_the_oldest_work_in_flight() -> None:
    f = InFlight()
    assert f.watermark(now_us=5_000) == 5_000  # nothing running: everything sent is in
    slow = f.begin(1_000)  # a request that will time out
    fast = f.begin(2_000)
    assert f.watermark(now_us=5_000) == 1_000
    f.end(fast)
    assert f.watermark(now_us=6_000) == 1_000
    f.end(slow)
    f.end(slow)  # ending twice is harmless
    assert f.watermark(now_us=7_000) == 7_000


def _chunk(directory: Path, worker: str, seq: int, starts_us: list[int]) -> None:
    buf = SampleBuffer()
    for s in starts_us:
        buf.append(0, s, 1.0, 200, "ok", 0, "GET /")
    write_chunk(buf.drain(worker), directory, worker, seq)


def test_the_tail_waits_for_every_worker_then_takes_the_lowest(tmp_path: Path) -> None:
    tail = LiveTail(tmp_path, workers=2)
    tail.keep_fresh = True
    _chunk(tmp_path, "w0", 0, [1_000_000, 2_000_000])
    write_watermark(tmp_path, "w0", 3_000_000)
    tail.poll()
    assert tail.complete_before == -math.inf  # w1 has not reported yet
    _chunk(tmp_path, "w1", 0, [1_500_000])
    write_watermark(tmp_path, "w1", 2_500_000)
    tail.poll()
    assert tail.complete_before == 2.5
    assert sorted(s for s, _, _ in tail.drain()) == [1_000_000, 1_500_000, 2_000_000]
    write_watermark(tmp_path, "w1", 2_000_000)  # never moves back
    tail.poll()
    assert tail.complete_before == 2.5


def test_a_watermark_read_before_its_chunk_is_not_trusted_beyond_what_was_read(
    tmp_path: Path,
) -> None:
    # The tail reads the watermarks first, then the chunks: a chunk written after that
    # listing is covered only by the next watermark, never by the one already read.
    tail = LiveTail(tmp_path, workers=1)
    tail.keep_fresh = True
    write_watermark(tmp_path, "w0", 1_000_000)
    tail.poll()
    assert tail.complete_before == 1.0
    _chunk(tmp_path, "w0", 0, [1_200_000])  # sent after the watermark it could not cover
    tail.poll()
    assert [s for s, _, _ in tail.drain()] == [1_200_000]


def test_watermarks_are_files_beside_the_chunks_and_go_with_the_merge(tmp_path: Path) -> None:
    write_watermark(tmp_path, "w0", 42)
    write_watermark(tmp_path, "w1", 7)
    (tmp_path / "w2.watermark").write_text("half-writ")  # unreadable: skipped
    assert read_watermarks(tmp_path) == {"w0": 42, "w1": 7}
    assert read_watermarks(tmp_path / "missing") == {}
    _chunk(tmp_path, "w0", 0, [1])
    stats = merge_chunks(tmp_path, tmp_path / "samples.parquet")
    assert stats.requests == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["samples.parquet"]
