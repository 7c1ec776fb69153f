"""build_plan: exact timelines and replica choices for synthetic scenarios."""

from __future__ import annotations

import random
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.faults.catalog import Scenario
from harness.scenario.models import Selector
from harness.scenario.plan import build_plan, resolve_amount, resolve_replicas

REPLICAS = {"lb": 1, "app": 3, "redis": 1}


def scenario(*faults: dict[str, Any], seed: int = 0, duration: str = "120s") -> Scenario:
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "plan-test",
            "seed": seed,
            "stack": {"compose": "c.yaml", "target": {"service": "lb", "port": 8080}},
            "load": {"users": 1},
            "timing": {"duration": duration},
            "faults": list(faults),
        }
    )


@pytest.mark.parametrize(
    ("selector", "available", "taken"),
    [
        ({"count": 2}, 3, 2),
        ({"percent": "34%"}, 3, 2),
        ({"percent": "33%"}, 3, 1),
        ({"percent": "10%"}, 3, 1),
        ({"percent": "30%"}, 10, 3),  # 0.3 * 10 is 3.0000000000000004 in floats
        ({"percent": "0%"}, 3, 0),
        ({"percent": "100%"}, 3, 3),
        ({"all": True}, 3, 3),
        ({"pick": "all"}, 5, 5),
        ({"index": 2}, 3, 1),
        ({}, 3, 1),
    ],
)
def test_amounts(selector: dict[str, Any], available: int, taken: int) -> None:
    assert resolve_amount(Selector(service="app", **selector), available) == taken


def test_pick_first_index_and_all() -> None:
    rng = random.Random(0)
    assert resolve_replicas(Selector(service="app", count=2, pick="first"), 3, rng) == (1, 2)
    assert resolve_replicas(Selector(service="app", index=3), 3, rng) == (3,)
    assert resolve_replicas(Selector(service="app", all=True), 3, rng) == (1, 2, 3)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"percent": 0}, "resolves to zero containers (service 'app' has 3 replicas)"),
        ({"count": 4}, "wants 4 containers but service 'app' has 3 replicas"),
        ({"index": 4}, "index 4 does not exist: service 'app' has 3 replicas"),
    ],
)
def test_impossible_selectors(selector: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_replicas(Selector(service="app", **selector), 3, random.Random(0))


def test_timeline_is_sorted_with_exact_times() -> None:
    plan = build_plan(
        scenario(
            {"type": "pause", "target": {"service": "app", "index": 1}, "at": "50s", "for": "5s"},
            {
                "type": "restart",
                "target": {"service": "redis"},
                "at": "10s",
                "repeat": 3,
                "every": "30s",
            },
            {"type": "kill", "target": {"service": "lb"}, "at": "40s", "until": "45s"},
        ),
        REPLICAS,
    )
    rows = [(s.key, s.service, s.replicas, s.start, s.end) for s in plan.steps]
    assert rows == [
        ("restart-2#0", "redis", (1,), 10.0, None),
        ("restart-2#1", "redis", (1,), 40.0, None),
        ("kill-3#0", "lb", (1,), 40.0, 45.0),
        ("pause-1#0", "app", (1,), 50.0, 55.0),
        ("restart-2#2", "redis", (1,), 70.0, None),
    ]
    assert plan.scenario == "plan-test"
    assert plan.seed == 0


def test_jitter_stays_within_bounds_and_follows_the_seed() -> None:
    fault = {
        "type": "pause",
        "target": {"service": "app", "count": 1},
        "at": "10s",
        "for": "1s",
        "repeat": 5,
        "every": "10s",
        "jitter": "2s",
    }
    one = build_plan(scenario(fault, seed=1), REPLICAS)
    again = build_plan(scenario(fault, seed=1), REPLICAS)
    other = build_plan(scenario(fault, seed=2), REPLICAS)
    assert one == again
    assert [s.start for s in one.steps] != [s.start for s in other.steps]
    for k, step in enumerate(one.steps):
        assert 10 + 10 * k - 2 <= step.start <= 10 + 10 * k + 2
        assert step.end == pytest.approx(step.start + 1.0)
    # each repeat draws its own shift (one shared draw would move them all alike)
    shifts = {round(step.start - (10 + 10 * k), 6) for k, step in enumerate(one.steps)}
    assert len(shifts) == 5


def test_seed_argument_overrides_the_scenario_seed() -> None:
    fault = {"type": "kill", "target": {"service": "app"}, "at": "1s", "for": "1s"}
    overridden = build_plan(scenario(fault, seed=9), REPLICAS, seed=5)
    assert overridden == build_plan(scenario(fault, seed=5), REPLICAS)
    assert overridden.seed == 5


def test_latency_jitter_is_not_a_schedule_shift() -> None:
    fault = {
        "type": "latency",
        "target": {"service": "app"},
        "at": "10s",
        "for": "5s",
        "delay": "100ms",
        "jitter": "50ms",
    }
    (step,) = build_plan(scenario(fault, seed=3), REPLICAS).steps
    assert (step.start, step.end) == (10.0, 15.0)


def test_unknown_service_is_an_error() -> None:
    fault = {"type": "kill", "target": {"service": "db"}, "at": "1s", "for": "1s"}
    with pytest.raises(ScenarioError, match="unknown service 'db'"):
        build_plan(scenario(fault), REPLICAS)
