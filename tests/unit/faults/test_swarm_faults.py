"""Swarm fault types: the spec changes they submit and their refusals (no engine needed)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import FaultError
from harness.faults import registry
from harness.faults.base import FaultContext
from harness.faults.service_update import ServiceUpdate


def _update(image: str | None = None, env: dict[str, str] | None = None) -> ServiceUpdate:
    state = {"key": "u#0", "targets": [], "image": image, "env": env or {}, "force_before": 4}
    return ServiceUpdate(FaultContext(project="st", run_id="r", engine="swarm"), state)


def _spec() -> dict[str, Any]:
    return {
        "TaskTemplate": {
            "ForceUpdate": 4,
            "ContainerSpec": {"Image": "hachaos/web-app:dev", "Env": ["REDIS_HOST=redis", "A=1"]},
        }
    }


def test_a_forced_update_bumps_force_update_only() -> None:
    spec = _spec()
    _update()._mutate(spec)
    assert spec["TaskTemplate"]["ForceUpdate"] == 5
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["REDIS_HOST=redis", "A=1"]


def test_an_env_and_image_change_keeps_the_other_variables() -> None:
    spec = _spec()
    _update(image="hachaos/web-app:v2", env={"A": "2", "B": "x=y"})._mutate(spec)
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert cs["Image"] == "hachaos/web-app:v2"
    assert cs["Env"] == ["REDIS_HOST=redis", "A=2", "B=x=y"]
    assert spec["TaskTemplate"]["ForceUpdate"] == 4


@pytest.mark.parametrize(
    "fault_type", ["service-update", "service-scale", "node-drain", "node-loss"]
)
def test_swarm_fault_types_are_refused_on_compose_before_the_run(fault_type: str) -> None:
    cls = registry.get(fault_type)
    with pytest.raises(FaultError, match="runs on compose"):
        cls.preflight(None, FaultContext(project="p", run_id="r"))  # type: ignore[arg-type]
