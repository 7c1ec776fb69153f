"""HdrHistogram bucketing and percentiles, vectorised with numpy.

The ``hdrhistogram`` package records one value per Python call, which takes
tens of seconds at millions of samples. This module computes the very same
counts index for a whole array at once (lowest trackable value 1 µs, highest
1 h, 3 significant figures), so every percentile equals what
``HdrHistogram.get_value_at_percentile`` returns for the same values. The unit
tests check that equality against the package itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HIGHEST_US = 3_600_000_000  # 1 h; larger values are clamped (recorded as 1 h)
SIGNIFICANT_FIGURES = 3
PERCENTILES: tuple[float, ...] = (50.0, 90.0, 95.0, 99.0, 99.9)

# Derived exactly as HdrHistogram does for lowest=1, highest=HIGHEST_US, 3 figures.
_UNIT_MAGNITUDE = 0
_SUB_BUCKET_HALF_COUNT_MAGNITUDE = math.ceil(math.log2(2 * 10**SIGNIFICANT_FIGURES)) - 1
_SUB_BUCKET_COUNT = 1 << (_SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)
_SUB_BUCKET_HALF_COUNT = _SUB_BUCKET_COUNT // 2
_SUB_BUCKET_MASK = (_SUB_BUCKET_COUNT - 1) << _UNIT_MAGNITUDE


def _bucket_count(highest: int) -> int:
    smallest_untrackable = _SUB_BUCKET_COUNT << _UNIT_MAGNITUDE
    buckets = 1
    while smallest_untrackable <= highest:
        smallest_untrackable <<= 1
        buckets += 1
    return buckets


COUNTS_LEN = (_bucket_count(HIGHEST_US) + 1) * _SUB_BUCKET_HALF_COUNT

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def to_us(latency_ms: FloatArray) -> IntArray:
    """Milliseconds (float) to whole microseconds, clamped to [0, 1 h]."""
    us = np.rint(np.nan_to_num(latency_ms, nan=0.0) * 1000.0)
    return np.clip(us, 0, HIGHEST_US).astype(np.int64)


def _bucket_index(values: IntArray) -> IntArray:
    # bit_length(v | mask): frexp's exponent is exact for integers below 2**53.
    bit_length = np.frexp((values | _SUB_BUCKET_MASK).astype(np.float64))[1].astype(np.int64)
    return bit_length - _UNIT_MAGNITUDE - (_SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1)


def counts_index(values_us: IntArray) -> IntArray:
    """HdrHistogram's counts index of every value (``_counts_index_for``)."""
    bucket = _bucket_index(values_us)
    sub_bucket = values_us >> (bucket + _UNIT_MAGNITUDE)
    base = (bucket + 1) << _SUB_BUCKET_HALF_COUNT_MAGNITUDE
    return base + sub_bucket - _SUB_BUCKET_HALF_COUNT


def lowest_equivalent(index: IntArray) -> IntArray:
    """Lowest value of the bucket at ``index`` (``get_value_from_index``)."""
    bucket = (index >> _SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket = (index & (_SUB_BUCKET_HALF_COUNT - 1)) + _SUB_BUCKET_HALF_COUNT
    first = bucket < 0
    sub_bucket = np.where(first, sub_bucket - _SUB_BUCKET_HALF_COUNT, sub_bucket)
    bucket = np.where(first, 0, bucket)
    return sub_bucket << (bucket + _UNIT_MAGNITUDE)


def highest_equivalent(index: IntArray) -> IntArray:
    """Highest value that falls into the bucket at ``index`` (HdrHistogram's reported value)."""
    lowest = lowest_equivalent(index)
    # Re-derive the bucket of that value, as get_highest_equivalent_value does.
    vb = _bucket_index(lowest)
    vsub = lowest >> (vb + _UNIT_MAGNITUDE)
    vb = np.where(vsub >= _SUB_BUCKET_COUNT, vb + 1, vb)
    return lowest + (np.int64(1) << (vb + _UNIT_MAGNITUDE)) - 1


@dataclass
class Histogram:
    """Counts per HdrHistogram bucket, plus the exact maximum.

    Histograms of disjoint sets of values merge exactly (:meth:`add`): the counts add
    up bucket by bucket and the maximum is the larger one, so a histogram built chunk
    by chunk equals the one of all the values at once (as ``HdrHistogram.add`` does).
    """

    counts: IntArray
    max_us: int

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def empty(cls) -> Histogram:
        return cls(np.zeros(COUNTS_LEN, dtype=np.int64), 0)

    @classmethod
    def of(cls, values_us: IntArray) -> Histogram:
        """Histogram of a set of microsecond values."""
        return cls.of_index(counts_index(values_us), values_us)

    @classmethod
    def of_index(cls, index: IntArray, values_us: IntArray) -> Histogram:
        """Histogram of values whose counts indexes (:func:`counts_index`) are known."""
        counts = np.bincount(index, minlength=COUNTS_LEN).astype(np.int64)
        return cls(counts, int(values_us.max()) if len(values_us) else 0)

    def add(self, other: Histogram) -> None:
        """Merge ``other`` in (exact: counts add up, the maximum is the larger)."""
        self.counts += other.counts
        self.max_us = max(self.max_us, other.max_us)

    def record(self, index: IntArray, values_us: IntArray) -> None:
        """Add values whose counts indexes are known."""
        if len(index):
            self.counts += np.bincount(index, minlength=COUNTS_LEN)
            self.max_us = max(self.max_us, int(values_us.max()))

    def value_at(self, percentiles: npt.ArrayLike) -> IntArray:
        """Values (µs) at percentiles, with ``get_value_at_percentile`` semantics."""
        p = np.minimum(np.asarray(percentiles, dtype=np.float64), 100.0)
        total = self.total
        if total == 0:
            return np.zeros(p.shape, dtype=np.int64)
        target = np.maximum((p * total / 100.0 + 0.5).astype(np.int64), 1)
        cumulative = np.cumsum(self.counts)
        index = np.searchsorted(cumulative, target, side="left").astype(np.int64)
        # Percentile 0 reports the bucket's lowest value, every other its highest.
        return np.where(p == 0, lowest_equivalent(index), highest_equivalent(index))

    def max_value(self) -> int:
        """HdrHistogram's reported maximum: highest equivalent value of the largest sample."""
        if self.total == 0:
            return 0
        return int(highest_equivalent(counts_index(np.array([self.max_us], dtype=np.int64)))[0])

    def summary(
        self, percentiles: tuple[float, ...] = PERCENTILES
    ) -> dict[str, float | int | None]:
        """Count, percentiles and max in ms (None when empty)."""
        out: dict[str, float | int | None] = {"count": self.total}
        empty = self.total == 0
        for p, v in zip(percentiles, self.value_at(percentiles), strict=True):
            out[percentile_key(p)] = None if empty else int(v) / 1000.0
        out["max"] = None if empty else self.max_value() / 1000.0
        return out

    def distribution(self) -> list[list[float]]:
        """``[[percentile, value_ms], ...]`` for the latency distribution plot."""
        if self.total == 0:
            return []
        values = self.value_at(DISTRIBUTION_PERCENTILES)
        return [[p, int(v) / 1000.0] for p, v in zip(DISTRIBUTION_PERCENTILES, values, strict=True)]


def summarize(
    values_us: IntArray, percentiles: tuple[float, ...] = PERCENTILES
) -> dict[str, float | int | None]:
    """Count, percentiles (p50/p90/p95/p99/p99.9 by default) and max in ms (None when empty)."""
    return Histogram.of(values_us).summary(percentiles)


def percentile_key(p: float) -> str:
    """``99.9`` → ``"p99.9"``, ``50`` → ``"p50"``."""
    return f"p{p:g}"


# Percentiles of the distribution plot, denser towards the tail (as HdrHistogram plots).
DISTRIBUTION_PERCENTILES: tuple[float, ...] = (
    0.0,
    10.0,
    25.0,
    50.0,
    75.0,
    90.0,
    95.0,
    97.5,
    99.0,
    99.5,
    99.75,
    99.9,
    99.95,
    99.99,
    99.999,
    100.0,
)


def distribution(values_us: IntArray) -> list[list[float]]:
    """``[[percentile, value_ms], ...]`` for the latency distribution plot."""
    return Histogram.of(values_us).distribution()
