"""Vectorised HdrHistogram equals the hdrhistogram package; corrected latency is exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hachaos_runfolder import T0, samples
from hdrh.histogram import HdrHistogram

from harness.analysis.latency import (
    DISTRIBUTION_PERCENTILES,
    HIGHEST_US,
    Histogram,
    summarize,
)
from harness.analysis.samples import timeline


def test_bucketing_and_percentiles_equal_hdrhistogram() -> None:
    rng = np.random.default_rng(42)
    values = np.concatenate(
        [
            rng.integers(0, 5000, 3000),
            rng.lognormal(9, 2, 5000).astype(np.int64).clip(0, HIGHEST_US),
            [0, 1, 2047, 2048, 2049, 4095, 4096, HIGHEST_US],
        ]
    ).astype(np.int64)
    reference = HdrHistogram(1, HIGHEST_US, 3)
    for v in values:
        assert reference.record_value(int(v))
    mine = Histogram.of(values)
    assert np.array_equal(np.asarray(reference.counts[: reference.counts_len]), mine.counts)
    percentiles = [*DISTRIBUTION_PERCENTILES, 12.5, 33.3, 99.9999]
    expected = [reference.get_value_at_percentile(p) for p in percentiles]
    assert mine.value_at(percentiles).tolist() == expected
    assert mine.max_value() == reference.get_max_value()


def test_summarize_known_values() -> None:
    # 1..1000 ms: p50 is the 500th value, p99 the 990th, in 1 µs-precise buckets of HDR.
    values = np.arange(1, 1001, dtype=np.int64) * 1000
    out = summarize(values)
    assert out["count"] == 1000
    assert out["p50"] == 500.223  # 500000 µs lies in a 512 µs-wide bucket ending at 500223
    assert out["p99"] == 990.207
    assert out["max"] == 1000.447


def test_summarize_empty_is_none() -> None:
    out = summarize(np.zeros(0, dtype=np.int64))
    assert out["count"] == 0
    assert out["p99"] is None
    assert out["max"] is None


def test_corrected_latency_adds_schedule_delay_only_for_scheduled_requests() -> None:
    open_model = samples([1.0, 2.0], ["ok", "ok"], 10.0, delay_ms=[0.0, 90.0])
    tl = timeline(open_model, T0)
    assert tl.has_schedule
    assert tl.raw_us.tolist() == [10_000, 10_000]
    assert tl.corrected_us.tolist() == [10_000, 100_000]

    closed = samples([1.0], ["ok"], 10.0)
    tl = timeline(closed, T0)
    assert not tl.has_schedule
    assert tl.corrected_us.tolist() == tl.raw_us.tolist()


def test_timeline_drops_warmup_sorts_and_maps_unknown_outcomes() -> None:
    frame = pd.concat(
        [samples([3.0, -1.0, 1.0], ["ok", "ok", "weird"])],
        ignore_index=True,
    )
    tl = timeline(frame, T0)
    assert tl.warmup_requests == 1
    assert tl.t.tolist() == [1.0, 3.0]
    assert tl.ok.tolist() == [False, True]  # "weird" counts as "other", a failure
