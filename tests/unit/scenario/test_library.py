"""The scenario library (scenarios/): every file valid, tagged, explained, every fault type used."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from harness.engine import registry as engines
from harness.faults import registry
from harness.run.validate import validate_file
from harness.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = sorted((ROOT / "scenarios").glob("*.yaml"))
SUITE_TAGS = {"smoke", "nightly", "release", "capacity"}
MAX_DURATION_S = 60.0  # measured part of a run: a release suite must stay affordable
MAX_TOTAL_S = 75.0  # warmup + duration + cooldown
MAX_SMOKE_S = 150.0  # the smoke subset runs in the test suite (tests/e2e/test_library_smoke.py)
MAX_EXPERIMENT_S = 3600.0  # a capacity experiment's whole budget (docs/capacity.md)


@cache
def load(path: Path) -> Scenario:
    scenario, _ = validate_file(path)
    return scenario


def header(path: Path) -> str:
    """The comment block the file starts with."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return " ".join(lines)


def total_s(sc: Scenario) -> float:
    return sc.timing.warmup + sc.timing.duration + sc.timing.cooldown


def test_the_library_is_large_enough() -> None:
    assert len(LIBRARY) >= 16, [p.name for p in LIBRARY]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_scenario_is_valid_tagged_short_and_explained(path: Path) -> None:
    sc = load(path)
    assert sc.name == path.stem, "the file is named after the scenario"
    assert SUITE_TAGS & set(sc.tags), f"{path.name}: tag it smoke, nightly and/or release"
    text = header(path)
    assert len(text) > 80, f"{path.name}: start with a comment on what it shows"
    said = re.search(r"expected verdict: \**(pass|fail|aborted)\b", text, re.I)
    assert said, f"{path.name}: the header must say `Expected verdict: pass|fail|aborted`"
    assert sc.expect == said.group(1).lower(), (
        f"{path.name}: `expect: {sc.expect}` but the header says {said.group(1)}"
    )
    if sc.experiment is not None:  # load steps, not one run: bounded by its budget instead
        assert "capacity" in sc.tags and not {"release", "smoke"} & set(sc.tags)
        assert experiment_budget_s(sc) <= MAX_EXPERIMENT_S
        return
    assert sc.timing.duration <= MAX_DURATION_S
    assert total_s(sc) <= MAX_TOTAL_S


def experiment_budget_s(sc: Scenario) -> float:
    """The longest an experiment may search: configurations x searches x max_time."""
    assert sc.experiment is not None
    counts = len(sc.experiment.scaling.replicas) if sc.experiment.scaling else 1
    searches = max(len(sc.stack.variants), 1) * counts * (2 if sc.faults else 1)
    return searches * sc.experiment.capacity.max_time


def test_the_library_has_capacity_scenarios() -> None:
    """A calibration on a planted limit, a scaling curve, N+1 and a variants comparison."""
    found = {load(p).name: load(p) for p in LIBRARY if load(p).experiment is not None}
    assert set(found) >= {
        "capacity-planted-limit",
        "capacity-web-ha-scaling",
        "capacity-web-ha-n-plus-1",
        "capacity-web-ha-cache",
    }
    assert found["capacity-web-ha-scaling"].experiment.scaling is not None  # type: ignore[union-attr]
    assert found["capacity-web-ha-n-plus-1"].checks.n_plus_1
    assert len(found["capacity-web-ha-cache"].stack.variants) == 2


def test_every_fault_type_is_in_the_library() -> None:
    """Every type that runs on a compose stack; Swarm-only ones (node-loss, node-drain …) need
    a swarm, some of them a multi-node one (docs/engines.md)."""
    can = engines.get("compose").capabilities
    compose = {spec.fault_type() for spec in registry.specs() if spec.needs <= can}
    used = {f.type for path in LIBRARY for f in load(path).faults}
    assert len(compose) >= 19 and compose - used == set()


def test_baseline_has_no_fault_and_checks_normal() -> None:
    sc = load(ROOT / "scenarios" / "baseline.yaml")
    assert sc.faults == []
    assert sc.checks.availability.overall is not None and sc.checks.latency
    assert {"smoke", "release"} <= set(sc.tags)


def test_single_replica_kill_stays_the_proof_that_checks_fail() -> None:
    path = ROOT / "scenarios" / "single-replica-kill.yaml"
    sc = load(path)
    assert "smoke" in sc.tags and sc.expect == "fail"
    assert re.search(r"expected verdict: \**fail", header(path), re.I)
    assert sc.checks.availability.overall is not None  # `hachaos run` exits 1 on it


def test_the_smoke_subset_is_short() -> None:
    smoke = [load(p) for p in LIBRARY if "smoke" in load(p).tags]
    assert {sc.name for sc in smoke} >= {"baseline", "single-replica-kill"}
    # runs on any Docker host: no swarm to initialise in the test suite
    assert all(sc.stack.engine == "compose" for sc in smoke)
    assert sum(total_s(sc) for sc in smoke) <= MAX_SMOKE_S
