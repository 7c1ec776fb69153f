"""The samples merge is an external sort: bounded runs, merged a few at a time, stable."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.evidence import samples as sample_store
from harness.evidence.samples import MERGE_KEY, SCHEMA, merge_sorted, sort_into, sorted_by


def _table(rows: list[tuple[int, int, int]]) -> pa.Table:
    """Rows (start_us, intended_us, tag); the tag (``bytes``) tells rows apart."""
    n = len(rows)
    return pa.table(
        {
            "intended_us": [r[1] for r in rows],
            "start_us": [r[0] for r in rows],
            "latency_ms": [1.0] * n,
            "status": pa.array([200] * n, pa.int32()),
            "outcome": ["ok"] * n,
            "bytes": [r[2] for r in rows],
            "name": ["GET /"] * n,
            "worker": ["w0"] * n,
            "item": [""] * n,
        },
        schema=SCHEMA,
    )


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of 3 rows, merged 2 at a time, 1 row read per run at a time: several levels."""
    monkeypatch.setattr(sample_store, "RUN_ROWS", 3)
    monkeypatch.setattr(sample_store, "FAN_IN", 2)
    monkeypatch.setattr(sample_store, "MERGE_BATCH_ROWS", 1)
    monkeypatch.setattr(sample_store, "ROW_GROUP_ROWS", 2)


def test_sorts_by_start_then_intended_and_keeps_ties_in_input_order(
    tmp_path: Path, tiny: None
) -> None:
    chunks = [
        _table([(50, 0, 1), (10, 0, 2), (30, 0, 3)]),
        _table([(30, 0, 4), (20, 5, 5)]),
        _table([(20, 4, 6), (10, 0, 7), (60, 0, 8), (30, 0, 9)]),
        _table([]),
        _table([(10, 0, 10), (30, 0, 11), (5, 0, 12)]),
    ]
    seen: list[int] = []
    dest = tmp_path / "samples.parquet"
    sort_into(chunks, dest, on_rows=lambda t: seen.append(t.num_rows))
    out = pq.read_table(dest)
    # 10 s: 2, 7, 10 as given; (20, 4) before (20, 5); the four rows at 30 as given.
    assert out["bytes"].to_pylist() == [12, 2, 7, 10, 6, 5, 3, 4, 9, 11, 1, 8]
    assert sum(seen) == 12
    assert sorted_by(dest) == MERGE_KEY
    assert [p.name for p in tmp_path.iterdir()] == ["samples.parquet"]  # scratch removed


def test_no_input_writes_an_empty_sorted_file(tmp_path: Path) -> None:
    dest = tmp_path / "samples.parquet"
    sort_into([], dest)
    assert pq.read_table(dest).num_rows == 0
    assert sorted_by(dest) == MERGE_KEY


def test_many_equal_keys_across_batches_keep_their_order(tmp_path: Path, tiny: None) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(_table([(7, 0, i) for i in range(5)]), a)
    pq.write_table(_table([(7, 0, 10 + i) for i in range(4)] + [(8, 0, 99)]), b)
    tables = list(merge_sorted([a, b], MERGE_KEY, batch_rows=1))
    tags = [t for table in tables for t in table["bytes"].to_pylist()]
    assert tags == [0, 1, 2, 3, 4, 10, 11, 12, 13, 99]  # file a's sevens, then b's
