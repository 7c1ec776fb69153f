"""A run's samples.parquet, read chunk by chunk in start order.

The analysis never holds the whole file: it reads the four columns it needs in
chunks of ``CHUNK_ROWS`` rows (tests set it low to cut their tiny runs into many
chunks). Every figure needs the requests in start order; hachaos writes the file
sorted (harness.evidence.samples) and says so in its metadata, any other file is
checked, and one that is out of order is sorted into a scratch file first, in
bounded memory too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.analysis.latency import IntArray
from harness.analysis.samples import CodeArray, Timeline, empty_frame, timeline_of
from harness.evidence.samples import sort_into, sorted_by
from harness.records import ITEM_COLUMN_DEFAULT, OUTCOMES, SAMPLE_COLUMNS

CHUNK_ROWS = 1_000_000
ANALYSED = ("intended_us", "start_us", "latency_ms", "outcome")
ANALYSED_SCHEMA = pa.schema(
    [
        ("intended_us", pa.int64()),
        ("start_us", pa.int64()),
        ("latency_ms", pa.float64()),
        ("outcome", pa.string()),
    ]
)
# Columns added after the first release: absent in older run folders, read as "".
OPTIONAL_SAMPLE_COLUMNS = ("item",)

ReadErrors = (OSError, ValueError, KeyError, pa.ArrowException)


@dataclass(frozen=True)
class SampleFile:
    """The samples of a run; ``path`` None when there are none (missing or unreadable)."""

    path: Path | None
    ordered: bool = False  # known to be in start order

    @classmethod
    def open(cls, path: Path, missing: list[str]) -> SampleFile:
        """Check the file's columns (not its rows); problems go to ``missing``."""
        if not path.exists():
            missing.append("samples.parquet is missing: no request was recorded")
            return cls(None)
        try:
            present = set(pq.read_schema(path).names)
            ordered = sorted_by(path)[:1] == ("start_us",)
        except ReadErrors as exc:
            missing.append(f"samples.parquet is unreadable ({exc}); metrics are empty")
            return cls(None)
        lacking = [c for c in SAMPLE_COLUMNS if c not in present | set(OPTIONAL_SAMPLE_COLUMNS)]
        if lacking:
            missing.append(f"samples.parquet lacks columns {lacking}; metrics are empty")
            return cls(None)
        return cls(path, ordered)

    def frame(self) -> pd.DataFrame:
        """Every row and column at once: for small files (tests, tools), never the analysis."""
        if self.path is None:
            return empty_frame()
        present = set(pq.read_schema(self.path).names)
        frame = pd.read_parquet(self.path, columns=[c for c in SAMPLE_COLUMNS if c in present])
        for column in OPTIONAL_SAMPLE_COLUMNS:
            if column not in frame.columns:  # samples written before the column existed
                frame[column] = ITEM_COLUMN_DEFAULT
        return frame

    @contextmanager
    def in_order(self) -> Iterator[SampleFile]:
        """This file, or a sorted scratch copy of its analysed columns if it is out of order."""
        if self.path is None or self.ordered or self._check_order():
            yield SampleFile(self.path, ordered=True)
            return
        with tempfile.TemporaryDirectory(prefix="hachaos-samples-") as tmp:
            dest = Path(tmp) / "samples.parquet"
            sort_into(
                (_nulls_as_zero(b) for b in self._batches()),
                dest,
                schema=ANALYSED_SCHEMA,
                key=("start_us",),
                scratch=Path(tmp),
            )
            yield SampleFile(dest, ordered=True)

    def _check_order(self) -> bool:
        last = None
        for batch in self._batches(("start_us",)):
            start = batch.column("start_us").fill_null(0).to_numpy()
            if len(start) == 0:
                continue
            if (last is not None and start[0] < last) or np.any(start[1:] < start[:-1]):
                return False
            last = start[-1]
        return True

    def _batches(self, columns: tuple[str, ...] = ANALYSED) -> Iterator[pa.RecordBatch]:
        if self.path is None:
            return
        # pre_buffer off: on, pyarrow keeps every row group it read buffered until the file closes
        reader = pq.ParquetFile(self.path, read_dictionary=["outcome"], pre_buffer=False)
        yield from reader.iter_batches(batch_size=CHUNK_ROWS, columns=list(columns))

    def timelines(self, t0_wall: float) -> Iterator[Timeline]:
        """The timeline chunk by chunk (warmup rows counted, not kept); ordered files only."""
        assert self.ordered or self.path is None, "use in_order() first"
        for batch in self._batches():
            yield timeline_of(
                _integers(batch.column("start_us")),
                _integers(batch.column("intended_us")),
                np.asarray(batch.column("latency_ms").to_numpy(zero_copy_only=False), np.float64),
                _codes(batch.column("outcome")),
                t0_wall,
                ordered=True,
            )


def _integers(column: pa.Array) -> IntArray:
    return np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


_OTHER = OUTCOMES.index("other")
_CODE = {name: i for i, name in enumerate(OUTCOMES)}


def _codes(outcome: pa.Array) -> CodeArray:
    """Outcome codes of a (dictionary-encoded) string column; nulls and unknowns: other."""
    if not isinstance(outcome, pa.DictionaryArray):
        outcome = outcome.dictionary_encode()
    lookup = np.array(
        [_CODE.get(name, _OTHER) for name in outcome.dictionary.to_pylist()] + [_OTHER],
        dtype=np.int8,
    )
    indices = outcome.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return lookup[np.where(indices < 0, len(lookup) - 1, indices)]


def _nulls_as_zero(batch: pa.RecordBatch) -> pa.Table:
    """The analysed columns with null times as 0, as the analysis reads them, and plain strings."""
    return pa.table(
        {
            "intended_us": batch.column("intended_us").fill_null(0),
            "start_us": batch.column("start_us").fill_null(0),
            "latency_ms": batch.column("latency_ms"),
            "outcome": pc.cast(batch.column("outcome"), pa.string()),
        },
        schema=ANALYSED_SCHEMA,
    )
