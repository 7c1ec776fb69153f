"""The samples' item column: chunk -> merge -> read, and older files without it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.analysis.inputs import load_run
from harness.load.chunks import SCHEMA, SampleBuffer, conform, merge_chunks, write_chunk
from harness.load.recorder import table_from_bytes
from harness.records import SAMPLE_COLUMNS


def test_item_survives_chunk_merge_and_read(tmp_path: Path) -> None:
    chunks = tmp_path / "samples"
    buf = SampleBuffer()
    buf.append(0, 2_000, 3.0, 201, "ok", 40, "POST /items", "abc123 run-1-0")
    buf.append(0, 1_000, 1.0, 200, "ok", 10, "GET /")  # no item: ""
    buf.append(0, 3_000, 2.0, 200, "ok", 30, "GET /items/{id}", "abc123")
    write_chunk(buf.drain("w0"), chunks, "w0", 0)
    merge_chunks(chunks, tmp_path / "samples.parquet")
    table = pq.read_table(tmp_path / "samples.parquet")
    assert tuple(table.column_names) == SAMPLE_COLUMNS
    assert table["item"].to_pylist() == ["", "abc123 run-1-0", "abc123"]


def test_old_chunks_without_item_merge_as_empty(tmp_path: Path) -> None:
    chunks = tmp_path / "samples"
    buf = SampleBuffer()
    buf.append(0, 1_000, 1.0, 200, "ok", 10, "GET /", "x")
    new = buf.drain("w0")
    old = new.drop_columns(["item"])  # a chunk written before the column existed
    pq.write_table(old, tmp_path / "old.parquet")
    chunks.mkdir()
    (tmp_path / "old.parquet").rename(chunks / "w1-000000.parquet")
    write_chunk(new.set_column(1, "start_us", pa.array([2_000], pa.int64())), chunks, "w0", 0)
    merge_chunks(chunks, tmp_path / "samples.parquet")
    assert pq.read_table(tmp_path / "samples.parquet")["item"].to_pylist() == ["", "x"]


def test_conform_keeps_shipped_tables_in_schema() -> None:
    buf = SampleBuffer()
    buf.append(0, 1, 1.0, 201, "ok", 1, "POST /items", "id key")
    table = buf.drain("w3")
    # a remote worker ships Arrow IPC; the master writes what conform makes of it
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    shipped = conform(table_from_bytes(sink.getvalue()))
    assert shipped.schema == SCHEMA
    assert shipped["item"].to_pylist() == ["id key"]
    assert conform(table.drop_columns(["item"]))["item"].to_pylist() == [""]


def test_analysis_reads_samples_without_item(tmp_path: Path) -> None:
    buf = SampleBuffer()
    buf.append(0, 1_700_000_001_000_000, 5.0, 200, "ok", 10, "GET /")
    pq.write_table(buf.drain("w0").drop_columns(["item"]), tmp_path / "samples.parquet")
    (tmp_path / "run.json").write_text(json.dumps({"t0_wall": 1_700_000_000.0}))
    inputs = load_run(tmp_path)
    assert list(inputs.samples.frame().columns) == list(SAMPLE_COLUMNS)
    assert inputs.samples.frame()["item"].tolist() == [""]
    assert not [m for m in inputs.missing if "samples" in m]
