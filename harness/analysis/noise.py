"""Robust statistics of a figure across runs: the noise band (median ± k·MAD), how far a
value lies outside it, the probability that this is noise, and spreads with confidence
intervals for repeated runs. Pure: numbers in, numbers out (docs/history.md#statistics).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.analysis.figures import Figure

MAD_SCALE = 1.4826  # MAD x 1.4826 estimates the standard deviation of normal noise
DEFAULT_K = 3.0  # band half-width in robust standard deviations

# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; beyond: 1.96.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def mad(values: Sequence[float]) -> float:
    """The scaled median absolute deviation (an estimate of the standard deviation)."""
    centre = statistics.median(values)
    return MAD_SCALE * statistics.median(abs(v - centre) for v in values)


@dataclass(frozen=True)
class Band:
    """Where a figure of a passing run lies when nothing changed: centre ± k·scale."""

    centre: float  # median of the baseline
    scale: float  # robust standard deviation (scaled MAD, at least the figure's floor / k)
    k: float
    n: int  # baseline runs

    @property
    def low(self) -> float:
        return self.centre - self.k * self.scale

    @property
    def high(self) -> float:
        return self.centre + self.k * self.scale

    def contains(self, value: float) -> bool:
        return self.low - 1e-12 <= value <= self.high + 1e-12


def band(values: Sequence[float], figure: Figure, k: float = DEFAULT_K) -> Band | None:
    """The noise band of a figure's baseline values; None without any value.

    A baseline that never varied (MAD 0) still gets the figure's floor as half-width, so
    one failed request in a run of a scenario that was 100 % available ten times is noise.
    """
    if not values:
        return None
    centre = statistics.median(values)
    floor = max(figure.floor, figure.floor_relative * abs(centre))
    return Band(centre, max(mad(values), floor / k), k, len(values))


def worse_by(value: float, band: Band, figure: Figure) -> float:
    """How many robust standard deviations ``value`` is worse than the centre (< 0: better)."""
    delta = value - band.centre if figure.better == "lower" else band.centre - value
    if band.scale > 0:
        return delta / band.scale
    return 0.0 if delta == 0 else math.copysign(math.inf, delta)


def noise_probability(z: float) -> float:
    """One-sided: the chance that noise alone makes a figure ``z`` robust standard
    deviations worse, were the noise normal (0.00135 at z = 3)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class Spread:
    """A figure over repeated runs: range, mean, standard deviation, 95 % CI of the mean."""

    n: int
    mean: float
    sd: float | None  # None for a single value
    low: float
    high: float
    ci_low: float | None  # Student-t interval of the mean; None for a single value
    ci_high: float | None


def spread(values: Sequence[float]) -> Spread | None:
    """The spread of measured values; None without any."""
    if not values:
        return None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Spread(1, mean, None, values[0], values[0], None, None)
    sd = statistics.stdev(values)
    t = _T975[len(values) - 2] if len(values) - 1 <= len(_T975) else 1.96
    half = t * sd / math.sqrt(len(values))
    return Spread(len(values), mean, sd, min(values), max(values), mean - half, mean + half)
