"""build_plan to the last digit: seeded jitter and picks, bounds, message wording.

The expected numbers come from the plan's documented derivation, computed by hand
with the standard library: occurrence ``k`` of fault ``i`` shifts by
``random.Random(f"{seed}:{i}:{k}:jitter").uniform(-jitter, jitter)`` and picks its
replicas with ``random.Random(f"{seed}:{i}:{k}:pick").sample(...)``. They are literals
on purpose: a saved seed must replay the same schedule in every later version, so
any change of the derivation (key, sign, rounding) has to fail here.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.faults.catalog import Scenario
from harness.scenario.models import Selector
from harness.scenario.plan import (
    build_plan,
    occurrence_bounds,
    resolve_replicas,
    selector_problem,
)


def scenario(*faults: dict[str, Any], seed: int = 0) -> Scenario:
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "plan-exact",
            "seed": seed,
            "stack": {"compose": "c.yaml", "target": {"service": "lb", "port": 8080}},
            "load": {"users": 1},
            "timing": {"duration": "120s"},
            "faults": list(faults),
        }
    )


# Fault 0: 2 of 5 app replicas, twice, 20 s apart, +/- 2 s. Fault 1: redis, +/- 2 s.
SEEDED = scenario(
    {
        "type": "pause",
        "target": {"service": "app", "count": 2, "pick": "random"},
        "at": "10s",
        "for": "5s",
        "repeat": 2,
        "every": "20s",
        "jitter": "2s",
    },
    {"type": "pause", "target": {"service": "redis"}, "at": "10s", "for": "5s", "jitter": "2s"},
    seed=7,
)
REPLICAS = {"lb": 1, "app": 5, "redis": 1}


def test_seeded_timeline_replays_exactly() -> None:
    # Random("7:0:0:jitter").uniform(-2, 2) = -0.93946..., Random("7:0:1:jitter") = -1.71793...,
    # Random("7:1:0:jitter") = -0.96814...; picks: "7:0:0:pick" -> [1, 2], "7:0:1:pick" -> [2, 5].
    plan = build_plan(SEEDED, REPLICAS)
    got = [(s.key, s.type, s.service, s.replicas, s.start, s.end) for s in plan.steps]
    assert got == [
        ("pause-2#0", "pause", "redis", (1,), 9.031855, 14.031855),
        ("pause-1#0", "pause", "app", (1, 2), 9.060539, 14.060539),
        ("pause-1#1", "pause", "app", (2, 5), 28.282068, 33.282068),
    ]
    assert plan.seed == 7


def test_each_fault_and_occurrence_draws_its_own_shift() -> None:
    plan = build_plan(SEEDED, REPLICAS)
    shifts = {s.key: round(s.start - (10.0 + 20.0 * s.occurrence), 6) for s in plan.steps}
    # Same at/jitter, other fault or other occurrence: other shift.
    assert len(set(shifts.values())) == 3


def test_jitter_below_one_second_still_shifts() -> None:
    fault = {"type": "pause", "target": {"service": "redis"}, "at": "10s", "for": "1s"}
    starts = {
        build_plan(scenario({**fault, "jitter": "0.5s"}, seed=seed), REPLICAS).steps[0].start
        for seed in range(5)
    }
    assert len(starts) == 5
    assert all(9.5 <= start <= 10.5 for start in starts)


def test_a_seed_override_changes_the_picks_not_the_rules() -> None:
    plan = build_plan(SEEDED, REPLICAS, seed=8)
    assert plan.seed == 8
    assert all(len(s.replicas) == 2 for s in plan.steps if s.service == "app")


def test_occurrence_bounds_of_a_repeat() -> None:
    fault = SEEDED.faults[0]
    # base 10 + 1 * 20 = 30; earliest 30 - 2; latest 30 + 2 + 5 (the window)
    assert occurrence_bounds(fault, 1) == (28.0, 37.0)
    assert occurrence_bounds(fault, 0) == (8.0, 17.0)


def test_random_pick_stays_within_the_service_and_really_varies() -> None:
    selector = Selector(service="app", count=2, pick="random")
    seen = {resolve_replicas(selector, 3, random.Random(seed)) for seed in range(40)}
    assert all(set(picked) <= {1, 2, 3} and len(picked) == 2 for picked in seen)
    assert seen == {(1, 2), (1, 3), (2, 3)}


def test_first_pick_is_not_random() -> None:
    selector = Selector(service="app", count=2, pick="first")
    assert {resolve_replicas(selector, 5, random.Random(seed)) for seed in range(10)} == {(1, 2)}


@pytest.mark.parametrize(
    ("available", "have"),
    [(1, "service 'app' has 1 replica:"), (2, "service 'app' has 2 replicas:")],
)
def test_replica_count_wording(available: int, have: str) -> None:
    problem = selector_problem(Selector(service="app", index=3), available)
    assert problem == f"index 3 does not exist: {have[:-1]}"


def test_zero_replicas_wording() -> None:
    problem = selector_problem(Selector(service="app", count=1), 0)
    assert problem == "the selector wants 1 containers but service 'app' has 0 replicas"
    with pytest.raises(ScenarioError, match="has 0 replicas"):
        resolve_replicas(Selector(service="app", count=1), 0, random.Random(0))


def test_windows_are_rounded_to_the_microsecond() -> None:
    fault = {"type": "pause", "target": {"service": "redis"}, "at": "10s", "for": "0.1234567s"}
    (step,) = build_plan(scenario(fault), REPLICAS).steps
    assert (step.start, step.end) == (10.0, 10.123457)
