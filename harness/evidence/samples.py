"""The samples file (one row per request) and its sorted merge in bounded memory.

Workers flush a chunk a second; at the end the chunks become one ``samples.parquet``
ordered by start time, the order every analysis pass reads it in. A whole run does
not fit in memory (a day at 1,000 req/s is 86 M rows), so the merge is an external
sort: consecutive inputs are cut into sorted *runs* of at most ``RUN_ROWS`` rows,
written to a scratch folder, then merged ``FAN_IN`` at a time, each run read
``MERGE_BATCH_ROWS`` rows at a time. Peak memory depends on those three constants,
not on the number of rows.

Rows with equal keys keep their input order (runs are consecutive inputs, sorted
stably, and a merge takes equal keys in run order): the result is exactly what one
stable in-memory sort of all inputs, concatenated, would give.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness.evidence.durable import replace_durably
from harness.records import ITEM_COLUMN_DEFAULT, SAMPLE_COLUMNS

SCHEMA = pa.schema(
    [
        ("intended_us", pa.int64()),
        ("start_us", pa.int64()),
        ("latency_ms", pa.float64()),
        ("status", pa.int32()),
        ("outcome", pa.string()),
        ("bytes", pa.int64()),
        ("name", pa.string()),
        ("worker", pa.string()),
        ("item", pa.string()),
    ]
)
assert tuple(SCHEMA.names) == SAMPLE_COLUMNS, "SCHEMA must follow harness.records.SAMPLE_COLUMNS"

MERGE_KEY: tuple[str, ...] = ("start_us", "intended_us")
SORTED_BY = b"hachaos.sorted_by"  # schema metadata of a file written in this order
RUN_ROWS = 500_000  # rows sorted in memory at once (~50-150 MB with strings)
FAN_IN = 16  # runs merged at once
MERGE_BATCH_ROWS = 16_384  # rows read from each run at a time
ROW_GROUP_ROWS = 262_144  # rows per row group of the output

Sink = Callable[[pa.Table], None]


def conform(table: pa.Table) -> pa.Table:
    """``table`` with exactly SCHEMA's columns; a column it lacks (older files) reads as "".

    Only string columns added after the first release (``item``) may be missing;
    any other missing column is a damaged file and raises ``KeyError``.
    """
    columns = []
    for field in SCHEMA:
        if field.name in table.column_names:
            columns.append(table[field.name].cast(field.type))
        elif field.name == "item":
            columns.append(pa.array([ITEM_COLUMN_DEFAULT] * table.num_rows, pa.string()))
        else:
            raise KeyError(f"samples lack the {field.name!r} column")
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def sorted_by(path: Path) -> tuple[str, ...]:
    """The key a samples file declares it is sorted by (empty when it declares none)."""
    metadata = pq.read_schema(path).metadata or {}
    value = metadata.get(SORTED_BY, b"")
    return tuple(value.decode().split(",")) if value else ()


class _Writer:
    """Parquet output in row groups of ``ROW_GROUP_ROWS``, durably renamed into place."""

    def __init__(self, dest: Path, schema: pa.Schema, key: Sequence[str]) -> None:
        self.dest = dest
        self.tmp = dest.with_name(f".{dest.name}.tmp")
        meta = dict(schema.metadata or {})
        meta[SORTED_BY] = ",".join(key).encode()
        self.schema = schema.with_metadata(meta)
        self._writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._rows += table.num_rows
        if self._rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            table = pa.concat_tables(self._pending).cast(self.schema)
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self._pending, self._rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        replace_durably(self.tmp, self.dest)

    def abandon(self) -> None:
        self._writer.close()
        self.tmp.unlink(missing_ok=True)


def _write_all(
    dest: Path, schema: pa.Schema, key: Sequence[str], tables: Iterable[pa.Table]
) -> None:
    writer = _Writer(dest, schema, key)
    try:
        for table in tables:
            writer.write(table)
    except BaseException:
        writer.abandon()
        raise
    writer.close()


def merge_sorted(paths: Sequence[Path], key: Sequence[str], batch_rows: int) -> Iterator[pa.Table]:
    """The rows of sorted files ``paths`` in key order; equal keys in path order, then row order.

    Holds at most about ``batch_rows`` rows per file. Each step emits every buffered
    row whose first key is below the smallest *last* first-key of the files still being
    read: no row yet to come can sort before those.
    """
    lead = key[0]
    readers = [
        pq.ParquetFile(p, pre_buffer=False).iter_batches(batch_size=batch_rows) for p in paths
    ]  # pre_buffer keeps every row group read until the file closes
    buffers: list[pa.Table | None] = [None] * len(paths)
    exhausted = [False] * len(paths)

    def pull(i: int) -> None:
        """Append the next batch of file ``i`` to its buffer (or mark it exhausted)."""
        try:
            batch = pa.Table.from_batches([next(readers[i])])
        except StopIteration:
            exhausted[i] = True
            return
        buf = buffers[i]
        buffers[i] = batch if buf is None or buf.num_rows == 0 else pa.concat_tables([buf, batch])

    def empty(i: int) -> bool:
        buf = buffers[i]
        return buf is None or buf.num_rows == 0

    for i in range(len(paths)):
        while empty(i) and not exhausted[i]:
            pull(i)
    while True:
        live = [i for i in range(len(paths)) if not empty(i)]
        if not live:
            return
        reading = [i for i in live if not exhausted[i]]
        last = {i: _last(buffers[i], lead) for i in reading}
        bound = min(last.values()) if reading else None
        parts = []
        for i in live:
            buf = buffers[i]
            assert buf is not None
            n = buf.num_rows if bound is None else _count_below(buf, lead, bound)
            if n:
                parts.append(buf.slice(0, n))
                buffers[i] = buf.slice(n)
        if parts:
            out = pa.concat_tables(parts)
            yield out.sort_by([(k, "ascending") for k in key]) if len(parts) > 1 else out
        else:  # every buffer starts at the bound: read further where it ends there
            for i in reading:
                if last[i] == bound:
                    pull(i)
        for i in range(len(paths)):
            while empty(i) and not exhausted[i]:
                pull(i)


def _last(table: pa.Table | None, key: str) -> int:
    assert table is not None
    return int(table[key][table.num_rows - 1].as_py())


def _count_below(table: pa.Table, key: str, bound: int) -> int:
    values = table[key].to_numpy()
    return int(np.searchsorted(values, bound, side="left"))


def sort_into(
    tables: Iterable[pa.Table],
    dest: Path,
    *,
    schema: pa.Schema = SCHEMA,
    key: Sequence[str] = MERGE_KEY,
    scratch: Path | None = None,
    on_rows: Sink | None = None,
) -> None:
    """Write the rows of ``tables`` (in that order) to ``dest``, sorted stably by ``key``.

    Memory is bounded by ``RUN_ROWS`` (one run sorted at a time), then ``FAN_IN`` x
    ``MERGE_BATCH_ROWS`` (the merge). Runs go to a scratch folder beside ``dest``
    (or in ``scratch``), removed afterwards. ``on_rows`` sees every output table, in order.
    ``dest`` is replaced durably, and declares its order in the schema metadata.
    """
    order = [(k, "ascending") for k in key]
    where = scratch if scratch is not None else dest.parent
    with tempfile.TemporaryDirectory(prefix=".samples-sort-", dir=where) as tmp:
        runs: list[Path] = []
        pending: list[pa.Table] = []
        rows = 0
        inputs = iter(tables)
        done = False
        while not done:
            table = next(inputs, None)
            done = table is None
            if table is not None:
                pending.append(table.cast(schema))
                rows += table.num_rows
            if pending and (rows >= RUN_ROWS or done):
                run = pa.concat_tables(pending).sort_by(order)
                pending, rows = [], 0
                if done and not runs:  # everything fitted in one run: no scratch file
                    _write_all(dest, schema, key, _tap([run], on_rows))
                    return
                runs.append(Path(tmp) / f"run-{len(runs):06d}.parquet")
                _write_all(runs[-1], schema, key, [run])
        if not runs:
            _write_all(dest, schema, key, [])
            return
        level = 0
        while len(runs) > FAN_IN:
            merged: list[Path] = []
            for g in range(0, len(runs), FAN_IN):
                group = runs[g : g + FAN_IN]
                out = Path(tmp) / f"merge{level}-{len(merged):06d}.parquet"
                _write_all(out, schema, key, merge_sorted(group, key, MERGE_BATCH_ROWS))
                for path in group:
                    path.unlink()
                merged.append(out)
            runs, level = merged, level + 1
        _write_all(dest, schema, key, _tap(merge_sorted(runs, key, MERGE_BATCH_ROWS), on_rows))


def _tap(tables: Iterable[pa.Table], sink: Sink | None) -> Iterator[pa.Table]:
    for table in tables:
        if sink is not None:
            sink(table)
        yield table
