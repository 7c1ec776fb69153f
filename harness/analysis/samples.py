"""Per-request samples as flat numpy arrays, sorted by request start time.

Sorting once makes every time interval a contiguous slice (two binary
searches), which keeps per-phase and per-fault metrics cheap at millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.analysis.latency import HIGHEST_US, FloatArray, IntArray, to_us
from harness.records import OUTCOMES, SAMPLE_COLUMNS, SUCCESS

BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.int8]

OK_CODE = OUTCOMES.index(SUCCESS)
DROPPED_CODE = OUTCOMES.index("dropped")


@dataclass(frozen=True)
class Timeline:
    """Measured requests (t >= 0), sorted by start; warmup rows are already removed."""

    t: FloatArray  # start time in s since t0 (end of warmup)
    outcome: CodeArray  # index into OUTCOMES; unknown strings map to "other"
    raw_us: IntArray  # response time in µs (0 for dropped requests)
    corrected_us: IntArray  # raw + (start - intended) where intended_us > 0, else raw
    has_schedule: bool  # some request had an intended start: corrected latency is meaningful
    warmup_requests: int  # rows before t0, excluded from everything

    def __len__(self) -> int:
        return len(self.t)

    @property
    def ok(self) -> BoolArray:
        return np.asarray(self.outcome == OK_CODE, dtype=np.bool_)

    @property
    def counted(self) -> BoolArray:
        """Requests that reached the system under test (everything but ``dropped``)."""
        return np.asarray(self.outcome != DROPPED_CODE, dtype=np.bool_)

    def span(self, start: float, end: float) -> slice:
        """The rows with ``start <= t < end``."""
        lo, hi = np.searchsorted(self.t, [start, end], side="left")
        return slice(int(lo), int(hi))


def empty_frame() -> pd.DataFrame:
    """A samples frame with the contract's columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in SAMPLE_COLUMNS})


def outcome_codes(outcomes: pd.Series | pd.Categorical) -> CodeArray:
    """Outcome strings as indexes into OUTCOMES; unknown strings and nulls map to "other"."""
    codes = pd.Categorical(outcomes, categories=list(OUTCOMES)).codes
    return np.where(codes < 0, OUTCOMES.index("other"), codes).astype(np.int8)


def timeline_of(
    start_us: IntArray,
    intended_us: IntArray,
    latency_ms: FloatArray,
    codes: CodeArray,
    t0_wall: float,
    *,
    ordered: bool = False,
) -> Timeline:
    """The timeline of columns (nulls already replaced: 0 for integers, NaN for latency).

    ``ordered``: the rows are already in start order (a sorted samples file), so the
    stable sort, which would leave them as they are, is skipped.
    """
    t_all = (start_us - round(t0_wall * 1e6)) / 1e6
    keep = t_all >= 0.0
    raw_us = to_us(latency_ms)
    scheduled = intended_us > 0
    # Coordinated omission: time the request waited behind schedule counts as latency.
    delay_us = np.where(scheduled, np.maximum(start_us - intended_us, 0), 0)
    corrected_us = np.minimum(raw_us + delay_us, HIGHEST_US)
    warmup = int((~keep).sum())
    if ordered:
        lo = warmup  # t rises with the row: the warmup rows come first
        return Timeline(
            t=t_all[lo:].astype(np.float64),
            outcome=codes[lo:].astype(np.int8),
            raw_us=raw_us[lo:].astype(np.int64),
            corrected_us=corrected_us[lo:].astype(np.int64),
            has_schedule=bool(scheduled[lo:].any()),
            warmup_requests=warmup,
        )
    order = np.argsort(t_all[keep], kind="stable")

    def pick(a: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return a[keep][order]

    return Timeline(
        t=pick(t_all).astype(np.float64),
        outcome=pick(codes).astype(np.int8),
        raw_us=pick(raw_us).astype(np.int64),
        corrected_us=pick(corrected_us).astype(np.int64),
        has_schedule=bool(scheduled[keep].any()),
        warmup_requests=warmup,
    )


def timeline(samples: pd.DataFrame, t0_wall: float) -> Timeline:
    """Build the timeline from a samples frame (columns of ``SAMPLE_COLUMNS``)."""
    return timeline_of(
        samples["start_us"].to_numpy(dtype=np.int64, na_value=0),
        samples["intended_us"].to_numpy(dtype=np.int64, na_value=0),
        samples["latency_ms"].to_numpy(dtype=np.float64, na_value=np.nan),
        outcome_codes(samples["outcome"].astype("string")),
        t0_wall,
    )
