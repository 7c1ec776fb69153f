"""Request counts, availability, error rates, throughput and latency of a set of requests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.analysis.latency import (
    COUNTS_LEN,
    PERCENTILES,
    counts_index,
    distribution,
    highest_equivalent,
    percentile_key,
    summarize,
)
from harness.analysis.samples import DROPPED_CODE, OK_CODE, BoolArray, Timeline
from harness.records import OUTCOMES

Selection = slice | BoolArray


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, None when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def phase_metrics(
    tl: Timeline, rows: Selection, duration_s: float, percentiles: tuple[float, ...] = PERCENTILES
) -> dict[str, Any]:
    """Metrics of the selected rows of a timeline over ``duration_s`` seconds.

    ``requests`` counts everything but ``dropped``; ``availability`` is
    ok / requests; latency is over the same requests.
    """
    outcome = tl.outcome[rows]
    counts = np.bincount(outcome, minlength=len(OUTCOMES))
    dropped = int(counts[DROPPED_CODE])
    requests = int(counts.sum()) - dropped
    ok = int(counts[OK_CODE])
    counted = outcome != DROPPED_CODE
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
            "raw": summarize(tl.raw_us[rows][counted], percentiles),
            "corrected": (
                summarize(tl.corrected_us[rows][counted], percentiles) if tl.has_schedule else None
            ),
        },
    }


def latency_distribution(tl: Timeline) -> dict[str, list[list[float]] | None]:
    """Percentile plot points of all measured requests, raw and corrected."""
    counted = tl.counted
    return {
        "raw": distribution(tl.raw_us[counted]),
        "corrected": distribution(tl.corrected_us[counted]) if tl.has_schedule else None,
    }


SERIES_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0)
EDGE_S = 1e-6  # span ends this close to a whole second count as on it (float noise of wall - t0)


def timeseries(tl: Timeline, end_s: float, start_s: float = 0.0) -> dict[str, list[Any]]:
    """Per-second series: requests, failures, error rate and latency percentiles (raw).

    Only whole seconds ``[k, k + 1)`` inside ``[start_s, end_s]`` (the span in which the
    load was sending) are kept: a second the load entered or left part-way would read as
    a false drop at either end of every chart. Its requests still count in every metric.
    Percentiles per second use HdrHistogram semantics: rows are sorted by
    (second, bucket) and the bucket at the percentile's target rank is reported.
    """
    first = max(math.ceil(start_s - EDGE_S), 0)
    stop = max(math.floor(end_s + EDGE_S), first)
    seconds = stop - first
    sec = np.floor(tl.t).astype(np.int64) - first
    inside = (sec >= 0) & (sec < seconds)
    counted = tl.counted & inside
    requests = np.bincount(sec[counted], minlength=seconds)[:seconds]
    ok = np.bincount(sec[tl.ok & inside], minlength=seconds)[:seconds]
    dropped = np.bincount(sec[~tl.counted & inside], minlength=seconds)[:seconds]
    failed = requests - ok
    out: dict[str, list[Any]] = {
        "t": list(range(first, stop)),
        "requests": requests.tolist(),
        "failed": failed.tolist(),
        "dropped": dropped.tolist(),
        "error_rate": [None if r == 0 else f / r for r, f in zip(requests, failed, strict=True)],
    }
    keys = np.sort(sec[counted] * COUNTS_LEN + counts_index(tl.raw_us[counted]))
    group_start = np.searchsorted(keys, np.arange(seconds, dtype=np.int64) * COUNTS_LEN)
    has = requests > 0
    for p in (*SERIES_PERCENTILES, 100.0):
        rank = np.maximum((p * requests / 100.0 + 0.5).astype(np.int64), 1)
        pick = np.minimum(group_start + rank - 1, max(len(keys) - 1, 0))
        values = highest_equivalent(keys[pick] % COUNTS_LEN) / 1000.0 if len(keys) else np.zeros(0)
        name = "max_ms" if p == 100.0 else f"{percentile_key(p)}_ms"
        out[name] = [float(v) if h else None for v, h in zip(values, has, strict=False)] or [
            None
        ] * seconds
    return out


__all__ = ["PERCENTILES", "latency_distribution", "phase_metrics", "ratio", "timeseries"]
