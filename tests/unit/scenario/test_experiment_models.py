"""The experiment block: what it fills in, what it refuses, and the variants' files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import ScenarioError
from harness.faults.catalog import Scenario
from harness.run.validate import validate_file
from harness.scenario.models import RecordedScenario

TINY = Path(__file__).resolve().parents[2] / "fixtures" / "compose" / "tiny.yaml"

BASE = {
    "version": 1,
    "name": "cap",
    "stack": {"compose": str(TINY), "target": {"service": "lb", "port": 8080}},
    "load": {"mix": {"read": 1, "write": 0, "read_item": 0}},
    "experiment": {"capacity": {"start": 20, "step": 10, "max_rps": 100, "hold": "5s"}},
}


def _write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _with(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {**BASE}
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node[key] = dict(node[key])  # type: ignore[index,call-overload]
            node = node[key]  # type: ignore[assignment,index]
        node[leaf] = value  # type: ignore[index]
    return data


def _problems(tmp_path: Path, data: dict[str, object]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_file(_write(tmp_path, data))
    return sorted(f"{p.path}: {p.message}" for p in info.value.problems)


def test_an_experiment_needs_no_timing_and_no_rps(tmp_path: Path) -> None:
    scenario, _ = validate_file(_write(tmp_path, BASE))
    assert scenario.experiment is not None
    assert scenario.load.model == "open"
    assert scenario.load.rps == 20  # the first step's rate
    assert (scenario.timing.warmup, scenario.timing.duration, scenario.timing.cooldown) == (
        3.0,
        5.0,
        0.0,
    )
    capacity = scenario.experiment.capacity
    assert capacity.first_rate(scenario.load.rps) == 20
    assert capacity.step_seconds() == 8.0


def test_the_filled_in_scenario_reads_back_the_same() -> None:
    scenario = Scenario.model_validate(BASE)
    dumped = scenario.model_dump(mode="json", by_alias=True, exclude={"source"})
    assert Scenario.model_validate(dumped) == scenario
    assert RecordedScenario.model_validate(dumped).experiment == scenario.experiment


def test_without_start_the_first_rate_is_load_rps_then_ten_capped_by_max_rps() -> None:
    exp = {"capacity": {"max_rps": 5}}
    scenario = Scenario.model_validate({**BASE, "experiment": exp})
    assert scenario.load.rps == 5
    capacity = scenario.experiment.capacity if scenario.experiment else None
    assert capacity is not None
    assert capacity.first_rate(None) == 5
    assert capacity.first_rate(3) == 3
    wide = Scenario.model_validate({**BASE, "experiment": {"capacity": {"max_rps": 500}}})
    assert wide.load.rps == 10
    given = Scenario.model_validate(
        {**BASE, "load": {"rps": 7}, "experiment": {"capacity": {"max_rps": 500}}}
    )
    assert given.load.rps == 7


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ({"max_rps": 10, "step": 1, "factor": 2}, "give `step` (added per step) or `factor`"),
        ({"max_rps": 10, "start": 11}, "`start` (11/s) is above `max_rps` (10/s)"),
        ({"max_rps": 10, "factor": 1}, "greater than 1"),
        ({"max_rps": 10, "resolution": "0.1%"}, "greater than or equal to 0.005"),
        ({"max_rps": 10, "max_steps": 201}, "less than or equal to 200"),
        ({"max_rps": 10, "repeat_bad": 4}, "less than or equal to 3"),
    ],
)
def test_capacity_settings_are_bounded(capacity: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Scenario.model_validate({**BASE, "experiment": {"capacity": capacity}})


def test_scaling_counts_are_distinct_bounded_and_sorted() -> None:
    exp = {"capacity": {"max_rps": 10}, "scaling": {"service": "app", "replicas": [3, 1, 2]}}
    scenario = Scenario.model_validate({**BASE, "experiment": exp})
    assert scenario.experiment is not None and scenario.experiment.scaling is not None
    assert scenario.experiment.scaling.counts() == [1, 2, 3]
    for replicas, message in (([1, 1], "must differ"), ([0], "1..64"), ([65], "1..64")):
        bad = {"capacity": {"max_rps": 10}, "scaling": {"service": "app", "replicas": replicas}}
        with pytest.raises(ValueError, match=message):
            Scenario.model_validate({**BASE, "experiment": bad})


def test_variant_names_are_unique() -> None:
    stack = {**BASE["stack"], "variants": [{"name": "a"}, {"name": "a"}]}  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="variant name 'a' is used twice"):
        Scenario.model_validate({**BASE, "stack": stack})


def test_experiment_keys_without_an_experiment_are_refused(tmp_path: Path) -> None:
    data = {k: v for k, v in BASE.items() if k != "experiment"}
    data["load"] = {"model": "open", "rps": 5}
    data["timing"] = {"duration": "10s"}
    data["stack"] = {**BASE["stack"], "variants": [{"name": "a"}]}  # type: ignore[dict-item]
    data["checks"] = {"min_capacity": 10, "n_plus_1": True}
    assert _problems(tmp_path, data) == sorted(
        [
            "stack.variants: variants are compared by an experiment; add an"
            " `experiment: {capacity: ...}` block (docs/capacity.md)",
            "checks.min_capacity: capacity is measured by an experiment; add an"
            " `experiment: {capacity: ...}` block (docs/capacity.md)",
            "checks.n_plus_1: N+1 is judged by an experiment; add an"
            " `experiment: {capacity: ...}` block (docs/capacity.md)",
        ]
    )


def test_run_only_keys_are_refused_in_an_experiment(tmp_path: Path) -> None:
    data = _with(
        load={"model": "closed", "users": 3},
        checks={
            "availability": {"overall": 0.99, "baseline": 0.99},
            "latency": [{"percentile": 99, "max": "1s", "phase": "baseline", "corrected": False}],
            "recovery": {"max": "5s"},
            "max_failure_span": "2s",
            "durability": {},
        },
    )
    assert _problems(tmp_path, data) == sorted(
        [
            "load.model: a capacity search offers fixed arrival rates: use `model: open` (or leave"
            " `model` out)",
            "checks.durability: the durability read-back is not part of an experiment; drop"
            " `checks.durability`",
            "checks.recovery.max: a recovery bound (nothing recovers: the faults are held) is not"
            " part of an experiment; drop `checks.recovery.max`",
            "checks.max_failure_span: a failure-span bound is not part of an experiment; drop"
            " `checks.max_failure_span`",
            "checks.availability.baseline: an experiment judges every load step as a whole: use"
            " `checks.availability.overall`",
            "checks.latency[0].phase: an experiment judges every load step as a whole: use"
            " `phase: overall`",
            "checks.latency[0].corrected: a capacity step is judged on latency corrected for"
            " coordinated omission; drop `corrected: false`",
        ]
    )


def test_held_faults_start_at_once_and_last_the_whole_search(tmp_path: Path) -> None:
    target = {"service": "app", "count": 1}
    data = _with(
        experiment={"capacity": {"max_rps": 100, "max_time": "2m", "peak": 150}},
        faults=[
            {"type": "crash", "target": target, "at": 0},
            {"type": "stop", "target": target, "at": "5s", "for": "1m"},
            {"type": "pause", "target": target, "at": 0, "for": "2m", "repeat": 2, "every": "3m"},
        ],
        checks={"n_plus_1": True},
    )
    assert _problems(tmp_path, data) == sorted(
        [
            "faults[0]: a `crash` fault is over in an instant, and an experiment holds its faults"
            " for the whole degraded search: use a fault with a window, e.g. `stop` or `pause`"
            " for a replica down",
            "faults[1].at: an experiment applies its faults before the first step of the degraded"
            " search: write `at: 0`",
            "faults[1]: the fault must last the whole degraded search: write `for: 120s`"
            " (experiment.capacity.max_time) or more; it is reverted when the search ends",
            "faults[2].repeat: an experiment holds each fault once; drop `repeat`",
            "experiment.capacity.peak: `peak` (150/s) is above `max_rps` (100/s), which no step"
            " ever offers",
        ]
    )


def test_peak_needs_a_fault_and_n_plus_1_needs_peak(tmp_path: Path) -> None:
    data = _with(experiment={"capacity": {"max_rps": 100, "peak": 50}}, checks={"n_plus_1": True})
    assert _problems(tmp_path, data) == [
        "experiment.capacity.peak: `peak` is the rate the stack must carry with a fault held"
        " (N+1): add the fault to hold under `faults`",
    ]
    data = _with(
        faults=[{"type": "stop", "target": {"service": "app"}, "at": 0, "for": "30m"}],
        checks={"n_plus_1": True},
    )
    assert _problems(tmp_path, data) == [
        "checks.n_plus_1: N+1 is judged against `experiment.capacity.peak`: set it"
    ]


def test_scaling_service_and_held_fault_selectors_fit_every_count(tmp_path: Path) -> None:
    data = _with(experiment={**BASE["experiment"], "scaling": {"service": "ap", "replicas": [1]}})  # type: ignore[dict-item]
    assert _problems(tmp_path, data) == [
        "experiment.scaling.service: unknown service 'ap'; tiny.yaml has: app, lb, redis"
    ]
    data = _with(
        experiment={**BASE["experiment"], "scaling": {"service": "app", "replicas": [3, 1]}},  # type: ignore[dict-item]
        faults=[{"type": "stop", "target": {"service": "app", "index": 2}, "at": 0, "for": "1h"}],
    )
    assert _problems(tmp_path, data) == [
        "faults[0].target: at 1 replicas: index 2 does not exist: service 'app' has 1 replica"
    ]


def test_the_whole_experiment_is_bounded(tmp_path: Path) -> None:
    variants = [{"name": f"v{i}"} for i in range(5)]
    data = _with(
        stack={**BASE["stack"], "variants": variants},  # type: ignore[dict-item]
        experiment={
            "capacity": {"max_rps": 10, "max_time": "4h"},
            "scaling": {"service": "app", "replicas": [1, 2, 3]},
        },
    )
    assert _problems(tmp_path, data) == [
        "experiment.capacity.max_time: 15 searches of up to 14400s each may last 60.0h; the"
        " limit is 24h: lower max_time or measure fewer configurations",
    ]
    data = _with(
        stack={**BASE["stack"], "variants": [{"name": f"v{i}"} for i in range(8)]},  # type: ignore[dict-item]
        experiment={
            "capacity": {"max_rps": 10, "max_time": "1m"},
            "scaling": {"service": "app", "replicas": [1, 2, 3, 4, 5]},
        },
    )
    assert _problems(tmp_path, data) == [
        "experiment: 8 variant(s) x 5 replica count(s) = 40 deployments; at most 32"
    ]


def test_overrides_and_each_variant_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "more.yaml").write_text("services:\n  extra:\n    image: debian:bookworm-slim\n")
    (tmp_path / "nolb.yaml").write_text("services:\n  lb:\n    ports: !reset []\n")
    data = _with(
        stack={
            **BASE["stack"],  # type: ignore[dict-item]
            "overrides": ["more.yaml"],
            "variants": [
                {"name": "plain"},
                {"name": "broken", "overrides": ["missing.yaml"]},
                {"name": "nolb", "overrides": ["nolb.yaml"]},
            ],
        },
        experiment={**BASE["experiment"], "scaling": {"service": "extra", "replicas": [1, 2]}},  # type: ignore[dict-item]
    )
    problems = _problems(tmp_path, data)
    assert problems == [
        f"stack.variants[1].overrides: compose file {tmp_path / 'missing.yaml'} does not exist",
        "stack.variants[2].overrides: with variant 'nolb': service 'lb' does not publish"
        " container port 8080; it publishes no port",
    ]
    del data["stack"]["variants"][1:]  # type: ignore[index]
    scenario, compose = validate_file(_write(tmp_path, data))
    assert "extra" in compose.services  # the stack's own overrides are read too
    assert [v.name for v in scenario.stack.variants] == ["plain"]
