"""The load profile and the open model's arrival schedule, with exactly known answers."""

from __future__ import annotations

import pytest

from harness.load.config import StageSpec
from harness.load.shape import arrival_times, build_profile, closed_users_at, level_at


def test_constant_rate_arrivals_are_evenly_spaced_and_split_across_workers() -> None:
    profile = build_profile(10.0, [], 2.0)
    everyone = list(arrival_times(profile))
    assert everyone == pytest.approx([0.05 + 0.1 * k for k in range(20)])
    w0 = list(arrival_times(profile, 0, 2))
    w1 = list(arrival_times(profile, 1, 2))
    assert w0 == pytest.approx(everyone[0::2])
    assert w1 == pytest.approx(everyone[1::2])


def test_ramp_integrates_to_the_area_under_the_rate() -> None:
    # 0 → 100 rps over 10 s is 500 requests; then 100 rps for 5 s is 500 more
    profile = build_profile(0.0, [StageSpec("ramp", 100.0, 10.0)], 15.0)
    times = list(arrival_times(profile))
    assert len(times) == 1000
    assert sum(1 for t in times if t < 10.0) == 500
    # halfway through the ramp a quarter of its area has accumulated: 125 arrivals
    assert sum(1 for t in times if t < 5.0) == 125
    assert times == sorted(times)


def test_step_and_spike_levels() -> None:
    stages = [StageSpec("step", 50.0, 2.0), StageSpec("spike", 200.0, 1.0)]
    profile = build_profile(10.0, stages, 5.0)
    assert level_at(profile, 1.0) == 50.0
    assert level_at(profile, 2.5) == 200.0
    # a spike returns to the level before it, which then holds to the end
    assert level_at(profile, 4.0) == 50.0
    assert level_at(profile, 5.0) == 0.0
    assert len(list(arrival_times(profile))) == 50 * 2 + 200 + 50 * 2


def test_stages_are_truncated_at_the_total() -> None:
    profile = build_profile(0.0, [StageSpec("ramp", 10.0, 10.0)], 5.0)
    assert profile[-1].end == 5.0
    assert level_at(profile, 4.999) == pytest.approx(5.0, abs=0.01)
    assert closed_users_at(profile, 2.5) == 2  # round(2.5) is banker's 2


def test_worker_index_out_of_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        list(arrival_times(build_profile(1.0, [], 1.0), 2, 2))
