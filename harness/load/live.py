"""A cheap live view of the run from the chunk files the workers flush each second."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.load.chunks import ChunkCursor, read_watermarks

WINDOW_S = 5.0
RECOUNT_ROWS = 1_000_000


@dataclass(frozen=True)
class WindowStats:
    """Figures over the last ``WINDOW_S`` seconds of samples."""

    requests: int  # all requests so far
    rps: float
    error_rate: float
    p99_ms: float | None


class LiveTail:
    """Reads each new chunk once and keeps the last few seconds of (start, latency, ok)."""

    def __init__(self, directory: Path, window_s: float = WINDOW_S, workers: int = 0) -> None:
        self.directory = directory
        self.workers = workers
        # Epoch s before which every sent request is taken in (see :meth:`poll`); -inf
        # until every worker has reported one.
        self.complete_before = -math.inf
        self.window_us = int(window_s * 1e6)
        self._chunks = ChunkCursor(directory)
        self._recent: deque[tuple[int, float, bool]] = deque()
        self.requests = 0
        self.keep_fresh = False  # abort conditions: collect new rows for :meth:`drain`
        self._fresh: list[tuple[int, float, bool]] = []

    def poll(self) -> WindowStats:
        """Take in new chunks, then summarise the window ending at the newest sample.

        The workers' watermarks are read first: each is written after the chunks it
        covers, so every chunk they vouch for is on disk when the chunks are listed.
        """
        marks = read_watermarks(self.directory)
        if self.workers and len(marks) >= self.workers:
            self.complete_before = max(self.complete_before, min(marks.values()) / 1e6)
        for path in self._chunks.new():
            self._chunks.take(path)
            try:
                table = pq.read_table(path, columns=["start_us", "latency_ms", "outcome"])
            except (OSError, ValueError):
                # merged away or unreadable in passing; the final merge still counts it
                continue
            sent = table.filter(pc.not_equal(table["outcome"], "dropped"))
            self.requests += sent.num_rows
            starts = table["start_us"].to_pylist()
            lats = table["latency_ms"].to_pylist()
            oks = pc.equal(table["outcome"], "ok").to_pylist()
            self._recent.extend(zip(starts, lats, oks, strict=True))
            if self.keep_fresh:  # sent requests only: a dropped arrival never reached the stack
                self._fresh.extend(
                    zip(
                        sent["start_us"].to_pylist(),
                        sent["latency_ms"].to_pylist(),
                        pc.equal(sent["outcome"], "ok").to_pylist(),
                        strict=True,
                    )
                )
        return self._summarise()

    def drain(self) -> list[tuple[int, float, bool]]:
        """The sent requests (start_us, latency_ms, ok) taken in since the last drain."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def _summarise(self) -> WindowStats:
        if not self._recent:
            return WindowStats(self.requests, 0.0, 0.0, None)
        newest = max(s for s, _, _ in self._recent)
        cutoff = newest - self.window_us
        self._recent = deque(r for r in self._recent if r[0] > cutoff)
        window = list(self._recent)
        oldest = min(s for s, _, _ in window)
        span_s = max((newest - oldest) / 1e6, 1.0)
        errors = sum(1 for _, _, ok in window if not ok)
        lats = sorted(lat for _, lat, ok in window if not math.isnan(lat))  # dropped rows
        p99 = lats[min(len(lats) - 1, int(0.99 * len(lats)))] if lats else None
        return WindowStats(
            requests=self.requests,
            rps=len(window) / min(span_s, self.window_us / 1e6),
            error_rate=errors / len(window),
            p99_ms=p99,
        )


# Upper bounds (seconds) of the live latency histogram's buckets (+Inf is added).
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Counts:
    """Requests of the measured run (start ≥ t0, dropped apart) for the live export."""

    by_outcome: dict[str, int]
    dropped: int
    warmup: int
    buckets: list[int]  # cumulative, one per LATENCY_BUCKETS_S bound, then +Inf
    latency_sum_s: float


class LiveCounts:
    """Counts every request of the chunk files once (each chunk is read once, by name).

    ``recount`` replaces the counts with those of the merged samples.parquet, which
    holds every chunk: the final figures then equal the analysis' (docs/metrics.md).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.t0_us: int | None = None  # until known, everything counts as warmup
        self._chunks = ChunkCursor(directory)
        self._counts = Counts({}, 0, 0, [0] * (len(LATENCY_BUCKETS_S) + 1), 0.0)

    def poll(self) -> Counts:
        """Take in the chunks flushed since the last call."""
        for path in self._chunks.new():
            try:
                table = pq.read_table(path, columns=["start_us", "latency_ms", "outcome"])
            except (OSError, ValueError):
                continue  # merged away or unreadable in passing: ``recount`` has it
            self._chunks.take(path)
            self._add(self._counts, table)
        return self._counts

    def recount(self, samples: Path) -> Counts:
        """Count the merged samples from scratch (never lower than what was shown)."""
        fresh = Counts({}, 0, 0, [0] * (len(LATENCY_BUCKETS_S) + 1), 0.0)
        try:  # chunk by chunk: the merged file of a long run does not fit in memory
            reader = pq.ParquetFile(samples, pre_buffer=False)  # else it buffers all it read
            for batch in reader.iter_batches(
                batch_size=RECOUNT_ROWS, columns=["start_us", "latency_ms", "outcome"]
            ):
                self._add(fresh, pa.Table.from_batches([batch]))
        except (OSError, ValueError):
            return self._counts
        old = self._counts
        for outcome, n in old.by_outcome.items():  # counters never go down
            fresh.by_outcome[outcome] = max(fresh.by_outcome.get(outcome, 0), n)
        self._counts = fresh
        return fresh

    def _add(self, into: Counts, table: pa.Table) -> None:
        starts = table["start_us"].to_numpy()
        outcomes = table["outcome"].to_numpy(zero_copy_only=False)
        lat = table["latency_ms"].to_numpy(zero_copy_only=False).astype(float)
        dropped = outcomes == "dropped"
        measured = starts >= self.t0_us if self.t0_us is not None else np.zeros(len(starts), bool)
        into.dropped += int((dropped & measured).sum())
        into.warmup += int((~dropped & ~measured).sum())
        sent = ~dropped & measured
        values, counts = np.unique(outcomes[sent], return_counts=True)
        for value, n in zip(values, counts, strict=True):
            into.by_outcome[str(value)] = into.by_outcome.get(str(value), 0) + int(n)
        seconds = lat[sent] / 1000.0
        seconds = seconds[~np.isnan(seconds)]
        for i, bound in enumerate(LATENCY_BUCKETS_S):
            into.buckets[i] += int((seconds <= bound).sum())
        into.buckets[-1] += len(seconds)
        into.latency_sum_s += float(seconds.sum())
