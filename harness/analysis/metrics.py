"""Request counts, availability, error rates, throughput and latency of a set of requests.

Both figures are built chunk by chunk: a :class:`Tally` (counts per outcome and two
HdrHistograms, merged exactly) per phase and per fault, and a :class:`SeriesBuilder`
that closes each second once the requests, in start order, have moved past it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.analysis.latency import (
    COUNTS_LEN,
    PERCENTILES,
    Histogram,
    IntArray,
    counts_index,
    highest_equivalent,
    percentile_key,
)
from harness.analysis.samples import DROPPED_CODE, OK_CODE, BoolArray, Timeline
from harness.records import OUTCOMES

Selection = slice | BoolArray


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, None when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class Indexed:
    """A timeline chunk with the HdrHistogram counts index of both latencies, computed once."""

    tl: Timeline
    raw_index: IntArray
    corrected_index: IntArray

    @classmethod
    def of(cls, tl: Timeline) -> Indexed:
        return cls(tl, counts_index(tl.raw_us), counts_index(tl.corrected_us))


@dataclass
class Tally:
    """Counts per outcome and raw and corrected latency histograms of a set of requests."""

    outcomes: IntArray = field(default_factory=lambda: np.zeros(len(OUTCOMES), dtype=np.int64))
    raw: Histogram = field(default_factory=Histogram.empty)
    corrected: Histogram = field(default_factory=Histogram.empty)

    def add(self, chunk: Indexed, rows: Selection) -> None:
        """Add the selected rows of a chunk; latency only of the requests (not dropped)."""
        tl = chunk.tl
        outcome = tl.outcome[rows]
        self.outcomes += np.bincount(outcome, minlength=len(OUTCOMES))
        counted = outcome != DROPPED_CODE
        self.raw.record(chunk.raw_index[rows][counted], tl.raw_us[rows][counted])
        self.corrected.record(chunk.corrected_index[rows][counted], tl.corrected_us[rows][counted])

    def metrics(
        self,
        duration_s: float,
        has_schedule: bool,
        percentiles: tuple[float, ...] = PERCENTILES,
    ) -> dict[str, Any]:
        """``requests`` counts everything but ``dropped``; ``availability`` is
        ok / requests; latency is over the same requests."""
        counts = self.outcomes
        dropped = int(counts[DROPPED_CODE])
        requests = int(counts.sum()) - dropped
        ok = int(counts[OK_CODE])
        return {
            "requests": requests,
            "ok": ok,
            "failed": requests - ok,
            "dropped": dropped,
            "duration_s": duration_s,
            "availability": ratio(ok, requests),
            "throughput_rps": ratio(requests, duration_s),
            "outcomes": {name: int(counts[i]) for i, name in enumerate(OUTCOMES) if counts[i]},
            "error_rate": {
                name: ratio(int(counts[i]), requests)
                for i, name in enumerate(OUTCOMES)
                if i not in (OK_CODE, DROPPED_CODE) and counts[i]
            },
            "latency_ms": {
                "raw": self.raw.summary(percentiles),
                "corrected": self.corrected.summary(percentiles) if has_schedule else None,
            },
        }

    def distribution(self, has_schedule: bool) -> dict[str, list[list[float]] | None]:
        """Percentile plot points of the requests, raw and corrected."""
        return {
            "raw": self.raw.distribution(),
            "corrected": self.corrected.distribution() if has_schedule else None,
        }


def phase_metrics(
    tl: Timeline, rows: Selection, duration_s: float, percentiles: tuple[float, ...] = PERCENTILES
) -> dict[str, Any]:
    """Metrics of the selected rows of a timeline over ``duration_s`` seconds."""
    tally = Tally()
    tally.add(Indexed.of(tl), rows)
    return tally.metrics(duration_s, tl.has_schedule, percentiles)


def latency_distribution(tl: Timeline) -> dict[str, list[list[float]] | None]:
    """Percentile plot points of all measured requests, raw and corrected."""
    tally = Tally()
    tally.add(Indexed.of(tl), slice(None))
    return tally.distribution(tl.has_schedule)


SERIES_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0)
EDGE_S = 1e-6  # span ends this close to a whole second count as on it (float noise of wall - t0)
_SERIES_VALUES = ("requests", "failed", "dropped", "p50_ms", "p90_ms", "p99_ms", "max_ms")
# At most this many buckets: a run up to 2 h keeps one a second; a longer one gets wider
# buckets (a 24 h run: 15 s), so summary.json and its model do not grow with the run.
MAX_SERIES_POINTS = 7200
SERIES_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def series_step(seconds: int, limit: int = MAX_SERIES_POINTS) -> int:
    """The narrowest bucket of :data:`SERIES_STEPS_S` that fits ``seconds`` in ``limit`` buckets."""
    for step in SERIES_STEPS_S:
        if seconds <= step * limit:
            return step
    return math.ceil(seconds / limit)


class SeriesBuilder:
    """Series per bucket of ``step`` whole seconds (:func:`series_step`; 1 s up to 2 h):
    requests, failures, error rate and latency percentiles (raw).

    Only whole buckets ``[first + k·step, first + (k + 1)·step)`` inside ``[start_s, end_s]``
    (the span in which the load was sending) are kept: a bucket the load entered or left
    part-way would read as a false drop at either end of every chart. Its requests still
    count in every metric. Percentiles per bucket use HdrHistogram semantics: rows are
    sorted by (bucket, histogram bucket) and the one at the percentile's target rank is
    reported.

    Fed chunks in start order, it closes every bucket before the newest request's
    and holds only the requests of the bucket still open.
    """

    def __init__(self, end_s: float, start_s: float = 0.0, limit: int = MAX_SERIES_POINTS) -> None:
        self.first = max(math.ceil(start_s - EDGE_S), 0)
        seconds = max(math.floor(end_s + EDGE_S) - self.first, 0)
        self.step = series_step(seconds, limit)
        self.buckets = seconds // self.step
        self._done = 0  # buckets before this one are closed
        self._bucket = np.zeros(0, dtype=np.int64)
        self._code = np.zeros(0, dtype=np.int8)
        self._index = np.zeros(0, dtype=np.int64)
        self._parts: dict[str, list[np.ndarray]] = {k: [] for k in _SERIES_VALUES}

    def feed(self, chunk: Indexed) -> None:
        tl = chunk.tl
        if len(tl) == 0:
            return
        # whole seconds first, so float noise of t cannot move a request across a bucket
        bucket = (np.floor(tl.t).astype(np.int64) - self.first) // self.step
        inside = (bucket >= 0) & (bucket < self.buckets)
        self._bucket = np.concatenate((self._bucket, bucket[inside]))
        self._code = np.concatenate((self._code, tl.outcome[inside]))
        self._index = np.concatenate((self._index, chunk.raw_index[inside]))
        # Later requests start no earlier than the newest: its bucket may still grow.
        self._close(min(int(bucket[-1]), self.buckets))

    def finish(self) -> dict[str, Any]:
        """The series; ``step_s`` only when wider than a second (summary.json leaves 1 out)."""
        self._close(self.buckets)
        values = {
            k: np.concatenate(v) if v else np.zeros(0, dtype=np.float64)
            for k, v in self._parts.items()
        }
        requests = values["requests"].astype(np.int64)
        failed = values["failed"].astype(np.int64)
        has = requests > 0
        out: dict[str, Any] = {"step_s": self.step} if self.step > 1 else {}
        out |= {
            "t": list(range(self.first, self.first + self.buckets * self.step, self.step)),
            "requests": requests.tolist(),
            "failed": failed.tolist(),
            "dropped": values["dropped"].astype(np.int64).tolist(),
            "error_rate": [
                None if r == 0 else f / r for r, f in zip(requests, failed, strict=True)
            ],
        }
        for name in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
            out[name] = [float(v) if h else None for v, h in zip(values[name], has, strict=True)]
        return out

    def _close(self, until: int) -> None:
        """Compute the buckets ``[done, until)`` and forget their requests."""
        buckets = until - self._done
        if buckets <= 0:
            return
        n = int(np.searchsorted(self._bucket, until, side="left"))
        bucket = self._bucket[:n] - self._done
        code, index = self._code[:n], self._index[:n]
        self._bucket, self._code = self._bucket[n:], self._code[n:]
        self._index = self._index[n:]
        self._done = until
        counted = code != DROPPED_CODE
        requests = np.bincount(bucket[counted], minlength=buckets)[:buckets]
        ok = np.bincount(bucket[code == OK_CODE], minlength=buckets)[:buckets]
        dropped = np.bincount(bucket[~counted], minlength=buckets)[:buckets]
        parts = self._parts
        parts["requests"].append(requests)
        parts["failed"].append(requests - ok)
        parts["dropped"].append(dropped)
        keys = np.sort(bucket[counted] * COUNTS_LEN + index[counted])
        group_start = np.searchsorted(keys, np.arange(buckets, dtype=np.int64) * COUNTS_LEN)
        for p in (*SERIES_PERCENTILES, 100.0):
            name = "max_ms" if p == 100.0 else f"{percentile_key(p)}_ms"
            if len(keys) == 0:
                parts[name].append(np.zeros(buckets, dtype=np.float64))
                continue
            rank = np.maximum((p * requests / 100.0 + 0.5).astype(np.int64), 1)
            pick = np.minimum(group_start + rank - 1, len(keys) - 1)
            parts[name].append(highest_equivalent(keys[pick] % COUNTS_LEN) / 1000.0)


def timeseries(
    tl: Timeline, end_s: float, start_s: float = 0.0, limit: int = MAX_SERIES_POINTS
) -> dict[str, Any]:
    """:class:`SeriesBuilder` over one whole timeline."""
    series = SeriesBuilder(end_s, start_s, limit)
    series.feed(Indexed.of(tl))
    return series.finish()


__all__ = [
    "PERCENTILES",
    "Indexed",
    "SeriesBuilder",
    "Tally",
    "latency_distribution",
    "phase_metrics",
    "ratio",
    "series_step",
    "timeseries",
]
