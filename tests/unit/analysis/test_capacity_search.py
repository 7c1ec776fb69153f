"""The capacity search on planted limits: which rates it tries, where it stops, and why.

A planted stack is good below its limit and bad at or above it; the clock is
injected and advances by a fixed step length, so the time budget is exact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.analysis.capacity.search import (
    CapacitySearch,
    SearchLimits,
    SearchResult,
    round_rate,
)
from harness.analysis.capacity.step import Verdict


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run(
    limits: SearchLimits,
    judge: Callable[[float], Verdict],
    step_s: float = 10.0,
    clock: Clock | None = None,
) -> SearchResult:
    clock = clock or Clock()
    search = CapacitySearch(limits, clock)
    for _ in range(1000):  # the search must stop by itself long before this
        rate = search.next_rate()
        if rate is None:
            return search.result()
        clock.t += step_s
        search.record(rate, judge(rate))
    raise AssertionError("the search never stopped")


def below(limit: float) -> Callable[[float], Verdict]:
    return lambda rate: "good" if rate < limit else "bad"


def test_linear_ramp_then_bisection_to_the_resolution() -> None:
    result = _run(SearchLimits(start=20, max_rps=400, step=20, resolution=0.05), below(101))
    rates = [s.rate for s in result.steps]
    # ramp 20..120 (120 is the first bad), then 110 bad, 105 bad: 105 - 100 = 5 <= 0.05 x 105
    assert rates == [20, 40, 60, 80, 100, 120, 110, 105]
    assert [s.phase for s in result.steps] == ["ramp"] * 6 + ["narrow"] * 2
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 100, 105)
    assert not result.lower_bound_only


def test_geometric_ramp_and_midpoints_of_three_figures() -> None:
    result = _run(SearchLimits(start=10, max_rps=1000, factor=2, resolution=0.02), below(123.4))
    rates = [s.rate for s in result.steps]
    # 10 20 40 80 160(bad) | 120 good, 140 bad, 130 bad, 125 bad, 122 good(122.5->122),
    # then 125 - 122 = 3 > 2.5: 124 (123.5) bad; 124 - 122 = 2 <= 0.02 x 124 = 2.48
    assert rates == [10, 20, 40, 80, 160, 120, 140, 130, 125, 122, 124]
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 122, 124)


def test_round_rate_keeps_three_significant_figures() -> None:
    assert [round_rate(x) for x in (123.45, 12.345, 1.2345, 1234.5, 0.0, -1.0)] == [
        123.0,
        12.3,
        1.23,
        1230.0,
        0.0,
        0.0,
    ]


def test_the_ramp_stops_at_max_rps_with_a_lower_bound() -> None:
    result = _run(SearchLimits(start=30, max_rps=100, step=30), below(1e9))
    assert [s.rate for s in result.steps] == [30, 60, 90, 100]  # the last step is capped
    assert (result.stop, result.capacity, result.first_bad) == ("max_rps", 100, None)
    assert result.lower_bound_only


def test_a_generator_bound_step_ends_the_search() -> None:
    result = _run(
        SearchLimits(start=100, max_rps=1000, step=100),
        lambda r: "generator" if r >= 300 else "good",
    )
    assert [s.rate for s in result.steps] == [100, 200, 300]
    assert (result.stop, result.capacity, result.generator_rate) == ("generator", 200, 300)
    assert result.lower_bound_only


def test_a_bad_first_step_halves_down_until_a_good_one_or_the_floor() -> None:
    result = _run(SearchLimits(start=40, max_rps=100, step=40, resolution=0.05), below(12))
    # 40 bad, 20 bad, 10 good, 15 bad, 12.5 bad, 11.2 good (11.25), 11.8 good (11.85 is
    # 11.8499... as a float), 12.5 - 11.8 = 0.7 > 0.625: 12.2 (12.15) bad,
    # 12.2 - 11.8 = 0.4 <= 0.61: converged
    assert [s.rate for s in result.steps] == [40, 20, 10, 15, 12.5, 11.2, 11.8, 12.2]
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 11.8, 12.2)
    nothing = _run(SearchLimits(start=40, max_rps=100, resolution=0.05), below(0))
    # 40 20 10 5 2.5 1.25 all bad; 1.25 > 40 x 0.05 = 2? no: 2.5 > 2, 1.25 <= 2 -> none_good
    assert [s.rate for s in nothing.steps] == [40, 20, 10, 5, 2.5, 1.25]
    assert (nothing.stop, nothing.capacity, nothing.first_bad) == ("none_good", None, 1.25)


def test_max_steps_bounds_the_search() -> None:
    result = _run(SearchLimits(start=1, max_rps=1000, step=1, max_steps=5), below(1e9))
    assert [s.rate for s in result.steps] == [1, 2, 3, 4, 5]
    assert (result.stop, result.capacity) == ("max_steps", 5)
    assert result.lower_bound_only


def test_no_step_starts_that_would_end_after_max_time() -> None:
    limits = SearchLimits(start=10, max_rps=1000, step=10, max_time_s=60.0, step_s=10.0)
    # steps take 10 s: at t = 50 s a sixth would end at 60 s (allowed), a seventh at 70 s
    result = _run(limits, below(1e9), step_s=10.0)
    assert [s.rate for s in result.steps] == [10, 20, 30, 40, 50, 60]
    assert result.stop == "max_time"
    # a slow step (25 s) raises the estimate: after 2 x 25 s, 50 + 25 > 60 -> stop
    slow = _run(limits, below(1e9), step_s=25.0)
    assert [s.rate for s in slow.steps] == [10, 20]
    assert slow.stop == "max_time"


def test_a_bad_step_is_measured_again_before_it_is_believed() -> None:
    flaky = iter(["good", "bad", "good", "bad", "bad", "good", "bad", "bad"])
    result = _run(
        SearchLimits(start=10, max_rps=100, step=10, resolution=0.1, repeat_bad=1),
        lambda _rate: next(flaky),  # type: ignore[arg-type,return-value]
    )
    assert [(s.rate, s.verdict, s.phase) for s in result.steps] == [
        (10, "good", "ramp"),
        (20, "bad", "ramp"),
        (20, "good", "repeat"),  # the repeat was good: 20 is good, the ramp goes on
        (30, "bad", "ramp"),
        (30, "bad", "repeat"),  # bad twice: believed
        (25, "good", "narrow"),
        (27.5, "bad", "narrow"),
        (27.5, "bad", "repeat"),  # 27.5 - 25 = 2.5 <= 0.1 x 27.5: converged
    ]
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 25, 27.5)


def test_the_driver_must_record_the_rate_it_was_given() -> None:
    search = CapacitySearch(SearchLimits(start=10, max_rps=20), Clock())
    assert search.next_rate() == 10
    assert search.next_rate() == 10  # asked again before recording: the same step
    with pytest.raises(ValueError, match="recorded rate 11 is not the pending step 10"):
        search.record(11, "good")
    with pytest.raises(ValueError, match="start 30 must lie in"):
        CapacitySearch(SearchLimits(start=30, max_rps=20), Clock())


# ------------------------------------------------------------- boundaries, exactly
def test_a_gap_of_exactly_the_resolution_has_converged() -> None:
    """95 good, 100 bad: 100 - 95 = 5 = 0.05 x 100, so no midpoint is measured."""
    result = _run(SearchLimits(start=95, max_rps=200, step=5, resolution=0.05), below(97))
    assert [s.rate for s in result.steps] == [95, 100]
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 95, 100)


def test_halving_stops_at_exactly_start_times_resolution() -> None:
    """Nothing good from 32/s: 32, 16, 8, 4, 2 bad; 2 = 32 x 0.0625 ends it (none good)."""
    result = _run(SearchLimits(start=32, max_rps=64, resolution=0.0625), below(0.5))
    assert [s.rate for s in result.steps] == [32, 16, 8, 4, 2]
    assert (result.stop, result.capacity, result.first_bad) == ("none_good", None, 2)


def test_a_bad_step_is_believed_only_after_every_repeat() -> None:
    """repeat_bad 2: 80 is measured three times before it counts as the first bad."""
    result = _run(
        SearchLimits(start=40, max_rps=400, step=40, resolution=0.3, repeat_bad=2), below(70)
    )
    assert [(s.rate, s.phase) for s in result.steps] == [
        (40, "ramp"),
        (80, "ramp"),
        (80, "repeat"),
        (80, "repeat"),
        (60, "narrow"),
    ]
    # 80 - 60 = 20 <= 0.3 x 80 = 24: converged
    assert (result.stop, result.capacity, result.first_bad) == ("converged", 60, 80)


def test_an_unrecovered_stack_ends_the_search_with_what_it_had() -> None:
    clock = Clock()
    search = CapacitySearch(SearchLimits(start=40, max_rps=400, step=40), clock)
    for rate, verdict in ((40, "good"), (80, "bad")):
        assert search.next_rate() == rate
        search.record(rate, verdict)  # type: ignore[arg-type]
    assert search.next_rate() == 60  # handed out, then the stack did not recover
    search.unrecovered()
    assert search.next_rate() is None
    result = search.result()
    assert (result.stop, result.capacity, result.first_bad) == ("unrecovered", 40, 80)
    assert [s.rate for s in result.steps] == [40, 80]  # the step never run is not recorded
    assert not result.lower_bound_only
