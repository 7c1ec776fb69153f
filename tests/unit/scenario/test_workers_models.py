"""`load.workers`: one placement, the stack's own engine for placed workers, bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.faults.catalog import Scenario
from harness.scenario.models import RecordedScenario


def _scenario(workers: Any, *, engine: str = "swarm", **load: Any) -> dict[str, Any]:
    stack: dict[str, Any] = {"compose": "compose.yaml", "target": {"service": "web", "port": 80}}
    if engine:
        stack["engine"] = engine
    body: dict[str, Any] = {"model": "open", "rps": 10, **load}
    if workers is not None:
        body["workers"] = workers
    return {
        "version": 1,
        "name": "w",
        "stack": stack,
        "load": body,
        "timing": {"duration": 10},
        "source": Path("/tmp/s.yaml"),
    }


def test_swarm_places_workers_beside_a_swarm_stack() -> None:
    s = Scenario.model_validate(_scenario({"swarm": {"replicas": 3}}))
    assert s.load.workers is not None
    name, spec = s.load.workers.placement() or ("", None)
    assert name == "swarm" and spec is not None and spec.replicas == 3
    assert spec.join_timeout == 120.0 and spec.image is None and spec.listen is None
    assert s.load.worker_count() == 3


def test_engine_workers_on_another_engine_are_refused() -> None:
    with pytest.raises(ValidationError, match="this stack runs on compose"):
        Scenario.model_validate(_scenario({"swarm": {"replicas": 2}}, engine=""))


def test_exactly_one_placement() -> None:
    both = {"local": 2, "remote": {"count": 1, "listen": "10.0.0.5:5557"}}
    with pytest.raises(ValidationError, match="give exactly one of"):
        Scenario.model_validate(_scenario(both))
    with pytest.raises(ValidationError, match="found none"):
        Scenario.model_validate(_scenario({}))


def test_processes_and_workers_do_not_mix() -> None:
    with pytest.raises(ValidationError, match="give `processes` or `workers`"):
        Scenario.model_validate(_scenario({"local": 2}, processes=2))
    local = Scenario.model_validate(_scenario({"local": 2}))
    assert local.load.worker_count() == 2
    assert Scenario.model_validate(_scenario(None, processes=3)).load.worker_count() == 3


def test_remote_workers_listen_on_one_address() -> None:
    s = Scenario.model_validate(_scenario({"remote": {"count": 2, "listen": "10.1.2.3:6000"}}))
    assert s.load.workers is not None and s.load.workers.remote is not None
    assert s.load.workers.remote.listen == "10.1.2.3:6000"
    assert s.load.workers.remote.join_timeout == 300.0
    assert s.load.worker_count() == 2
    for bad in ("loadbox:6000", "10.1.2.3", "10.1.2.3:70000"):
        with pytest.raises(ValidationError):
            Scenario.model_validate(_scenario({"remote": {"count": 2, "listen": bad}}))


def test_bounds() -> None:
    for bad in ({"swarm": {"replicas": 0}}, {"swarm": {"replicas": 257}}, {"local": 65}):
        with pytest.raises(ValidationError):
            Scenario.model_validate(_scenario(bad))
    with pytest.raises(ValidationError):
        Scenario.model_validate(_scenario({"swarm": {"replicas": 1, "image": "bad image"}}))
    with pytest.raises(ValidationError):
        Scenario.model_validate(_scenario({"swarm": {"replicas": 1, "listen": "a.host"}}))


def test_an_experiment_runs_local_workers_only() -> None:
    raw = _scenario({"remote": {"count": 1, "listen": "10.0.0.5:5557"}})
    raw["experiment"] = {"capacity": {"max_rps": 100}}
    with pytest.raises(ValidationError, match="local workers only"):
        Scenario.model_validate(raw)


def test_a_recorded_scenario_reads_any_engines_workers() -> None:
    raw = _scenario({"nomad": {"replicas": 4}}, engine="nomad")
    rec = RecordedScenario.model_validate(raw)
    assert rec.load.workers is not None
    placed = rec.load.workers.placement()
    assert placed is not None and placed[0] == "nomad" and placed[1].replicas == 4


def test_a_run_reads_back_the_scenario_it_recorded_with_workers() -> None:
    """run.json's scenario.json is the dump of the scenario, defaults included: its
    `processes: auto` beside `workers` is not the user giving both."""
    s = Scenario.model_validate(_scenario({"swarm": {"replicas": 3, "join_timeout": 300}}))
    dumped = s.model_dump(mode="json", by_alias=True, exclude={"source"})
    assert dumped["load"]["processes"] == "auto"
    rec = RecordedScenario.model_validate(dumped)
    assert rec.load.workers is not None and rec.load.worker_count() == 3
