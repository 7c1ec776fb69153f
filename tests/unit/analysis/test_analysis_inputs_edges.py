"""Samples with gaps and strangers: missing values, unknown outcomes, out-of-range inputs.

Expected values are worked out by hand from three-row frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.latency import HIGHEST_US, Histogram, to_us
from harness.analysis.samples import timeline
from harness.records import OUTCOMES

T0 = 1_000.0  # t0 in wall seconds: start_us 1_000_000_000 is t = 0


def frame(**columns: object) -> pd.DataFrame:
    base: dict[str, object] = {
        "start_us": pd.array([1_000_000_000, 1_000_500_000, 1_001_000_000], dtype="Int64"),
        "outcome": ["ok", "ok", "ok"],
        "latency_ms": [10.0, 20.0, 30.0],
        "intended_us": pd.array([0, 0, 0], dtype="Int64"),
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_to_us_rounds_clamps_and_zeroes_missing_values() -> None:
    got = to_us(np.array([np.nan, -1.0, 0.0004, 0.0006, 1.5, 4_000_000.0]))
    assert got.dtype == np.int64
    assert got.tolist() == [0, 0, 0, 1, 1500, HIGHEST_US]
    assert HIGHEST_US == 3_600_000_000  # one hour
    # Whole microseconds feed the histogram directly.
    assert Histogram.of(got).total == 6


def test_percentiles_above_100_read_as_100() -> None:
    hist = Histogram.of(np.array([1_000, 2_000], dtype=np.int64))
    at_100, at_250 = hist.value_at([100.0, 250.0]).tolist()
    # Below 2048 µs every value has its own bucket (3 significant digits: 2048 sub-buckets).
    assert at_100 == at_250 == 2_000


def test_an_unknown_outcome_counts_as_other() -> None:
    tl = timeline(frame(outcome=["ok", "teapot", "ok"]), T0)
    assert tl.outcome.tolist() == [
        OUTCOMES.index("ok"),
        OUTCOMES.index("other"),
        OUTCOMES.index("ok"),
    ]


def test_a_missing_intended_start_means_unscheduled() -> None:
    # Row 2 was scheduled 0.2 s before it started: 200 ms behind schedule.
    intended = pd.array([pd.NA, 1_000_300_000, pd.NA], dtype="Int64")
    tl = timeline(frame(intended_us=intended), T0)
    assert tl.raw_us.tolist() == [10_000, 20_000, 30_000]
    assert tl.corrected_us.tolist() == [10_000, 220_000, 30_000]
    assert tl.has_schedule


def test_a_row_without_a_start_time_is_dropped_as_before_t0() -> None:
    start = pd.array([pd.NA, 1_000_500_000, 1_001_000_000], dtype="Int64")
    tl = timeline(frame(start_us=start), T0)
    assert tl.t.tolist() == [0.5, 1.0]
    assert tl.warmup_requests == 1
