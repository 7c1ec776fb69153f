"""The load shape as a piecewise-linear level over time, and the open model's arrival times.

Pure functions: the closed model reads the level as a user count, the open
model as requests per second. Offsets are seconds from load start.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from harness.load.config import StageSpec

ARRIVALS = ("uniform", "poisson")


@dataclass(frozen=True)
class Segment:
    """A linear piece of the level: ``v0`` at ``start`` to ``v1`` at ``end``."""

    start: float
    end: float
    v0: float
    v1: float

    def area(self) -> float:
        return (self.v0 + self.v1) / 2.0 * (self.end - self.start)


def build_profile(base: float, stages: Sequence[StageSpec], total: float) -> list[Segment]:
    """Lay the stages end to end from ``base``; the last level holds until ``total``.

    ramp goes linearly from the previous level to its target; step jumps to
    its target and stays; spike jumps to its target and returns afterwards.
    """
    segments: list[Segment] = []
    level, t = float(base), 0.0
    for stage in stages:
        if t >= total:
            break
        end = min(t + stage.duration, total)
        if stage.kind == "ramp":
            # a truncated ramp stops at the level it has reached by ``total``
            reached = level + (stage.target - level) * (end - t) / stage.duration
            segments.append(Segment(t, end, level, reached))
            level = stage.target
        else:
            segments.append(Segment(t, end, stage.target, stage.target))
            if stage.kind == "step":
                level = stage.target
        t = end
    if t < total:
        segments.append(Segment(t, total, level, level))
    return segments


def level_at(profile: Sequence[Segment], t: float) -> float:
    """The level at offset ``t`` (0 outside the profile)."""
    for seg in profile:
        if seg.start <= t < seg.end:
            frac = (t - seg.start) / (seg.end - seg.start)
            return seg.v0 + (seg.v1 - seg.v0) * frac
    return 0.0


def _offset_for(seg: Segment, count: float) -> float:
    """Time into ``seg`` at which ``count`` arrivals have accumulated (inverse of the area)."""
    width = seg.end - seg.start
    slope = (seg.v1 - seg.v0) / width
    if abs(slope) < 1e-12:
        return count / seg.v0
    # v0*x + slope*x^2/2 = count  →  x = (-v0 + sqrt(v0^2 + 2*slope*count)) / slope
    disc = max(seg.v0 * seg.v0 + 2.0 * slope * count, 0.0)
    return min((-seg.v0 + math.sqrt(disc)) / slope, width)


def uniform_marks() -> Iterator[float]:
    """Evenly spaced arrivals: the k-th when the integral of the rate reaches k + 1/2."""
    return (k + 0.5 for k in itertools.count())


def poisson_marks(seed: int) -> Iterator[float]:
    """A Poisson process in integral-of-rate units: partial sums of Exp(1) gaps.

    Mapped through the inverse integral of the rate (time rescaling), this is a
    Poisson process of the profile's rate, ramps included. The stream has a seed
    of its own, so the schedule does not depend on the worker count.
    """
    rng = random.Random(f"hachaos-arrivals-{seed}")
    total = 0.0
    while True:
        total += rng.expovariate(1.0)
        yield total


def _times_at(profile: Sequence[Segment], marks: Iterator[float]) -> Iterator[float]:
    """Offsets at which the integral of the rate reaches each of the increasing ``marks``."""
    done = 0.0  # arrivals accumulated before the current segment
    mark = next(marks)
    for seg in profile:
        area = seg.area()
        if area <= 0.0:
            continue  # a zero-rate stretch holds no arrival
        while mark <= done + area:
            yield seg.start + _offset_for(seg, mark - done)
            mark = next(marks)
        done += area


def arrival_times(
    profile: Sequence[Segment],
    worker: int = 0,
    workers: int = 1,
    arrivals: str = "uniform",
    seed: int = 0,
) -> Iterator[float]:
    """Offsets of this worker's share of the open model's arrivals, in order.

    ``uniform``: arrival ``k`` (all workers together) happens when the integral
    of the rate reaches ``k + 0.5``; ``poisson``: at the points of a seeded
    Poisson process of the same rate. Worker ``i`` of ``n`` sends arrivals
    ``k ≡ i (mod n)``, so the workers interleave and their union is the schedule.
    """
    if not 0 <= worker < workers:
        raise ValueError(f"worker index {worker} outside 0..{workers - 1}")
    if arrivals not in ARRIVALS:
        raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}, not {arrivals!r}")
    marks = uniform_marks() if arrivals == "uniform" else poisson_marks(seed)
    return itertools.islice(_times_at(profile, marks), worker, None, workers)


def closed_users_at(profile: Sequence[Segment], t: float) -> int:
    """Closed model: the user count at offset ``t``, rounded to whole users."""
    return round(level_at(profile, t))
