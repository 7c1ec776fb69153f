"""Open-model arrivals: the seeded Poisson schedule against its statistics, and uniform.

The seed is fixed, so every figure below is reproducible; the bounds are what a
Poisson process of that rate satisfies with probability above 0.999 (so another
seed would pass too), and each is one the uniform schedule fails.
"""

from __future__ import annotations

import itertools
import math
import statistics

import pytest
from pydantic import ValidationError

from harness.load.config import LoadConfig, StageSpec
from harness.load.shape import arrival_times, build_profile
from harness.scenario.models import Load

RATE, SPAN = 50.0, 200.0  # 10,000 arrivals expected


def _poisson(seed: int = 7, worker: int = 0, workers: int = 1) -> list[float]:
    return list(arrival_times(build_profile(RATE, [], SPAN), worker, workers, "poisson", seed))


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def _ks_exponential(gaps: list[float], rate: float) -> float:
    """Kolmogorov-Smirnov distance between the gaps and Exp(rate)."""
    xs = sorted(gaps)
    n = len(xs)
    cdf = [1.0 - math.exp(-rate * x) for x in xs]
    return max(max((i + 1) / n - c, c - i / n) for i, c in enumerate(cdf))


def test_the_mean_rate_is_the_asked_one() -> None:
    n = len(_poisson())
    # Poisson(10,000): sd 100, so 4 sd either side
    assert 9600 <= n <= 10400
    times = _poisson()
    assert times == sorted(times) and times[0] > 0.0 and times[-1] < SPAN


def test_the_gaps_are_exponential() -> None:
    gaps = _gaps(_poisson())
    n = len(gaps)
    # KS critical value at alpha = 0.001: 1.95 / sqrt(n), about 0.0195 for n = 10,000
    assert _ks_exponential(gaps, RATE) < 1.95 / math.sqrt(n)
    # Exp(50): mean 20 ms and sd 20 ms (coefficient of variation 1)
    assert statistics.fmean(gaps) == pytest.approx(1 / RATE, rel=0.04)
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.05)
    # uniform arrivals fail the same test: every gap is 20 ms (KS distance 0.63)
    even = _gaps(list(arrival_times(build_profile(RATE, [], SPAN))))
    assert _ks_exponential(even, RATE) > 0.6


def test_counts_per_second_scatter_like_poisson() -> None:
    times = _poisson()
    counts = [0] * int(SPAN)
    for t in times:
        counts[int(t)] += 1
    # index of dispersion (variance / mean) is 1 for Poisson counts; its sd over 200
    # windows is about sqrt(2 / 199) = 0.1
    dispersion = statistics.pvariance(counts) / statistics.fmean(counts)
    assert 0.6 < dispersion < 1.4
    even = list(arrival_times(build_profile(RATE, [], SPAN)))
    assert {sum(1 for t in even if s <= t < s + 1) for s in range(5)} == {50}  # no scatter


def test_the_schedule_is_reproducible_and_shared_by_the_workers() -> None:
    assert _poisson(seed=7) == _poisson(seed=7)
    assert _poisson(seed=7)[:10] != _poisson(seed=8)[:10]
    one = _poisson(seed=7)
    three = [_poisson(7, w, 3) for w in range(3)]
    assert sorted(t for share in three for t in share) == one  # the worker count changes nothing
    assert three[1] == one[1::3]


def test_a_poisson_ramp_follows_the_rate() -> None:
    # 0 -> 100 rps over 10 s: 500 arrivals expected, 125 of them in the first 5 s
    profile = build_profile(0.0, [StageSpec("ramp", 100.0, 10.0)], 10.0)
    times = list(arrival_times(profile, arrivals="poisson", seed=3))
    assert abs(len(times) - 500) <= 4 * math.sqrt(500)
    assert abs(sum(1 for t in times if t < 5.0) - 125) <= 4 * math.sqrt(125)


def test_a_zero_rate_stretch_holds_no_arrival() -> None:
    stages = [StageSpec("step", 0.0, 2.0), StageSpec("step", 10.0, 2.0)]
    for kind in ("uniform", "poisson"):
        times = list(arrival_times(build_profile(0.0, stages, 4.0), arrivals=kind, seed=1))
        assert times and min(times) >= 2.0


def test_unknown_arrivals_are_refused() -> None:
    with pytest.raises(ValueError, match="uniform, poisson"):
        arrival_times(build_profile(1.0, [], 1.0), arrivals="bursty")


def test_the_scenario_key() -> None:
    assert Load(model="open", rps=5).arrivals == "uniform"
    assert Load(model="open", rps=5, arrivals="poisson").arrivals == "poisson"
    with pytest.raises(ValidationError, match="`arrivals` belongs to the open model"):
        Load(model="closed", users=2, arrivals="poisson")
    with pytest.raises(ValidationError):
        Load(model="open", rps=5, arrivals="bursty")  # type: ignore[arg-type]
    cfg = LoadConfig(target_url="http://127.0.0.1:1/", model="open", total_seconds=1, run_id="r")
    assert LoadConfig.from_json(cfg.to_json()).arrivals == "uniform"
