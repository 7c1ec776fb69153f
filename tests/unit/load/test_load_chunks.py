"""Sample chunks: the buffer, atomic chunk files, the merge and its counts."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.parquet as pq

from harness.load.chunks import (
    GAP_CHUNKS,
    ChunkCursor,
    SampleBuffer,
    chunk_files,
    merge_chunks,
    write_chunk,
)
from harness.load.config import LoadConfig, StageSpec
from harness.load.live import LiveTail
from harness.records import SAMPLE_COLUMNS


def _chunk(dir_: Path, worker: str, seq: int, rows: list[tuple[int, int, float, int, str]]) -> None:
    buf = SampleBuffer()
    for intended, start, lat, status, outcome in rows:
        buf.append(intended, start, lat, status, outcome, 10, "GET /")
    write_chunk(buf.drain(worker), dir_, worker, seq)


def test_merge_orders_counts_and_removes_chunks(tmp_path: Path) -> None:
    chunks = tmp_path / "samples"
    _chunk(chunks, "w1", 0, [(1_000_000, 1_000_500, 1.25, 200, "ok")])
    _chunk(
        chunks,
        "w0",
        0,
        [
            (900_000, 950_000, 3.5, 500, "http_5xx"),  # 50 ms late
            (800_000, 800_000, math.nan, 0, "dropped"),
            (0, 700_000, 0.123456789, 200, "ok"),  # closed model row
        ],
    )
    stats = merge_chunks(chunks, tmp_path / "samples.parquet", late_tolerance_ms=10.0)
    assert (stats.requests, stats.dropped, stats.late) == (3, 1, 1)
    table = pq.read_table(tmp_path / "samples.parquet")
    assert tuple(table.column_names) == SAMPLE_COLUMNS
    assert table["start_us"].to_pylist() == [700_000, 800_000, 950_000, 1_000_500]
    assert table["latency_ms"].to_pylist()[0] == 0.123456789  # not rounded
    assert table["worker"].to_pylist() == ["w0", "w0", "w0", "w1"]
    assert chunk_files(chunks) == []


def test_merge_without_chunks_writes_an_empty_file(tmp_path: Path) -> None:
    stats = merge_chunks(tmp_path / "missing", tmp_path / "samples.parquet")
    assert (stats.requests, stats.dropped, stats.late) == (0, 0, 0)
    assert pq.read_table(tmp_path / "samples.parquet").num_rows == 0


def test_live_tail_summarises_the_last_five_seconds(tmp_path: Path) -> None:
    s = 1_000_000
    rows = [(0, 10 * s + i * s // 10, float(i), 200, "ok") for i in range(100)]  # 10 s at 10/s
    rows[-1] = (0, rows[-1][1], 99.0, 503, "http_5xx")
    _chunk(tmp_path, "w0", 0, rows)
    stats = LiveTail(tmp_path).poll()
    assert stats.requests == 100
    # window (newest - 5 s, newest] holds the last 50 samples
    assert stats.rps == 50 / 4.9
    assert stats.error_rate == 1 / 50
    assert stats.p99_ms == 99.0


def test_config_round_trips_through_json() -> None:
    cfg = LoadConfig(
        target_url="http://127.0.0.1:1",
        model="open",
        total_seconds=3.0,
        run_id="r",
        rps=100.0,
        stages=(StageSpec("spike", 400.0, 1.0),),
        workers=2,
    )
    assert LoadConfig.from_json(cfg.to_json()) == cfg
    # a stalled target holds peak x timeout requests: 400 x 2 s over 2 workers, plus headroom
    assert cfg.in_flight_cap() == int(400 * 2.0 / 2 * 1.5) + 16


def test_merge_skips_and_keeps_a_damaged_chunk(tmp_path: Path) -> None:
    chunks = tmp_path / "samples"
    _chunk(chunks, "w0", 0, [(0, 1_000_000, 2.0, 200, "ok"), (0, 2_000_000, 2.0, 200, "ok")])
    damaged = chunks / "w0-000001.parquet"
    damaged.write_bytes(b"PAR1 cut short")  # what a crash without fsync can leave
    stats = merge_chunks(chunks, tmp_path / "samples.parquet")
    assert (stats.requests, stats.damaged) == (2, (damaged,))
    assert chunk_files(chunks) == [damaged]  # the good chunk is merged away, the damaged one kept
    assert pq.read_table(tmp_path / "samples.parquet").num_rows == 2


def test_chunk_cursor_hands_out_each_chunk_once_and_forgets_what_it_passed(
    tmp_path: Path,
) -> None:
    cursor = ChunkCursor(tmp_path)
    for seq in (0, 1, 3):  # 2 is still being written
        (tmp_path / f"w0-{seq:06d}.parquet").touch()
    (tmp_path / "w1-000000.parquet").touch()
    first = cursor.new()
    assert [p.name for p in first] == [
        "w0-000000.parquet",
        "w0-000001.parquet",
        "w0-000003.parquet",
        "w1-000000.parquet",
    ]
    for path in first:
        cursor.take(path)
    assert cursor.new() == []
    (tmp_path / "w0-000002.parquet").touch()  # lands late
    assert [p.name for p in cursor.new()] == ["w0-000002.parquet"]
    cursor.take(tmp_path / "w0-000002.parquet")
    assert cursor._below == {"w0": 4, "w1": 1}  # everything below is taken: nothing held
    assert cursor._above == {"w0": set(), "w1": set()}


def test_chunk_cursor_gives_up_on_a_chunk_that_never_comes(tmp_path: Path) -> None:
    cursor = ChunkCursor(tmp_path)
    for seq in range(1, GAP_CHUNKS + 3):  # chunk 0's write failed
        cursor.take(tmp_path / f"w0-{seq:06d}.parquet")
    assert cursor._below["w0"] == GAP_CHUNKS + 3
    assert cursor._above["w0"] == set()
