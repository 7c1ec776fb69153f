"""A cheap live view of the run from the chunk files the workers flush each second."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.load.chunks import chunk_files

WINDOW_S = 5.0


@dataclass(frozen=True)
class WindowStats:
    """Figures over the last ``WINDOW_S`` seconds of samples."""

    requests: int  # all requests so far
    rps: float
    error_rate: float
    p99_ms: float | None


class LiveTail:
    """Reads each new chunk once and keeps the last few seconds of (start, latency, ok)."""

    def __init__(self, directory: Path, window_s: float = WINDOW_S) -> None:
        self.directory = directory
        self.window_us = int(window_s * 1e6)
        self._seen: set[str] = set()
        self._recent: deque[tuple[int, float, bool]] = deque()
        self.requests = 0
        self.keep_fresh = False  # abort conditions: collect new rows for :meth:`drain`
        self._fresh: list[tuple[int, float, bool]] = []

    def poll(self) -> WindowStats:
        """Take in new chunks, then summarise the window ending at the newest sample."""
        for path in chunk_files(self.directory):
            if path.name in self._seen:
                continue
            self._seen.add(path.name)
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
