"""Property-based: valid scenarios round-trip; the plan is a pure function of (scenario, seed)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.faults.catalog import Scenario
from harness.scenario.plan import build_plan

REPLICAS = {"lb": 1, "app": 3, "redis": 1}
DURATION = 600.0

durations = st.one_of(
    st.integers(1, 60).map(lambda n: f"{n}s"),
    st.integers(100, 5000).map(lambda n: f"{n}ms"),
    st.floats(0.5, 30, allow_nan=False).map(lambda f: round(f, 3)),
)
fractions = st.one_of(
    st.floats(0.01, 1.0).map(lambda f: round(f, 4)),
    st.integers(1, 100).map(lambda n: f"{n}%"),
)
services = st.sampled_from(sorted(REPLICAS))


@st.composite
def selectors(draw: st.DrawFn) -> dict[str, Any]:
    service = draw(services)
    amount = draw(st.sampled_from(["none", "count", "percent", "all", "index"]))
    out: dict[str, Any] = {"service": service}
    if amount == "count":
        out["count"] = draw(st.integers(1, REPLICAS[service]))
    elif amount == "percent":
        out["percent"] = draw(fractions)
    elif amount == "all":
        out["all"] = True
    elif amount == "index":
        out["index"] = draw(st.integers(1, REPLICAS[service]))
    if amount != "index":
        out["pick"] = draw(st.sampled_from(["random", "first"]))
    return out


@st.composite
def faults(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["kill", "pause", "crash", "restart", "partition", "cpu"]))
    fault: dict[str, Any] = {
        "type": kind,
        "target": draw(selectors()),
        "at": draw(st.integers(5, 200)),
    }
    if kind not in ("crash", "restart"):
        fault["for"] = draw(durations)
    if kind == "partition":
        fault["peers"] = draw(st.lists(services, max_size=2, unique=True))
    if kind == "cpu":
        fault["cpus"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
    if draw(st.booleans()):
        fault["repeat"] = draw(st.integers(2, 4))
        fault["every"] = draw(st.integers(40, 80))
        fault["jitter"] = draw(st.integers(0, 4))
    return fault


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(
        st.one_of(
            st.just({"service": "lb", "port": 8080}),
            st.integers(1024, 65535).map(lambda p: f"http://127.0.0.1:{p}/"),
        )
    )
    load: dict[str, Any] = draw(
        st.one_of(
            st.builds(lambda u: {"users": u}, st.integers(1, 100)),
            st.builds(lambda r: {"model": "open", "rps": r}, st.integers(1, 500)),
        )
    )
    load["timeout"] = draw(durations)
    return {
        "version": 1,
        "name": draw(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)),
        "tags": draw(st.lists(st.sampled_from(["smoke", "ha", "net"]), unique=True)),
        "seed": draw(st.integers(0, 2**32)),
        "stack": {"compose": "compose.yaml", "target": target},
        "load": load,
        "timing": {"warmup": draw(durations), "duration": DURATION},
        "faults": draw(st.lists(faults(), max_size=5)),
        "checks": {
            "availability": {"overall": draw(fractions)},
            "latency": [{"percentile": 99, "max": draw(durations)}],
        },
    }


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_valid_scenarios_round_trip(data: dict[str, Any]) -> None:
    scenario = Scenario.model_validate(data)
    dumped = scenario.model_dump(by_alias=True, mode="json")
    assert Scenario.model_validate(dumped) == scenario
    assert "for_" not in str(dumped) and "source" not in dumped


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 2**32))
def test_plan_is_a_pure_function_of_scenario_and_seed(data: dict[str, Any], seed: int) -> None:
    scenario = Scenario.model_validate(data)
    first = build_plan(scenario, REPLICAS, seed=seed)
    rebuilt = Scenario.model_validate(scenario.model_dump(by_alias=True, mode="json"))
    assert build_plan(rebuilt, dict(REPLICAS), seed=seed) == first
    assert build_plan(scenario.model_copy(update={"seed": seed}), REPLICAS) == first


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 2**32), st.integers(0, 2**32))
def test_seed_only_moves_random_choices(data: dict[str, Any], seed_a: int, seed_b: int) -> None:
    scenario = Scenario.model_validate(data)
    a = build_plan(scenario, REPLICAS, seed=seed_a)
    b = build_plan(scenario, REPLICAS, seed=seed_b)
    assert len(a.steps) == len(b.steps)
    key = lambda s: (s.fault_index, s.occurrence)  # noqa: E731
    for x, y in zip(sorted(a.steps, key=key), sorted(b.steps, key=key), strict=True):
        fault = scenario.faults[x.fault_index]
        assert len(x.replicas) == len(y.replicas)
        if fault.jitter == 0:
            assert x.start == y.start and x.end == y.end
        if fault.target.pick != "random" or len(x.replicas) == REPLICAS[x.service]:
            assert x.replicas == y.replicas
        base = fault.at + x.occurrence * (fault.every or 0)
        assert base - fault.jitter - 1e-6 <= x.start <= base + fault.jitter + 1e-6


@settings(max_examples=60, deadline=None)
@given(scenarios(), faults())
def test_adding_a_fault_does_not_reshuffle_the_others(
    data: dict[str, Any], extra: dict[str, Any]
) -> None:
    before = build_plan(Scenario.model_validate(data), REPLICAS)
    after = build_plan(
        Scenario.model_validate({**data, "faults": [*data["faults"], extra]}), REPLICAS
    )
    assert [s for s in after.steps if s.fault_index < len(data["faults"])] == list(before.steps)
