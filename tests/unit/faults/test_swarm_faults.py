"""Swarm fault types: the spec changes they submit and their refusals (no engine needed)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.errors import FaultError
from harness.faults import registry
from harness.faults.base import FaultContext
from harness.faults.service_update import ServiceUpdate


def _update(image: str | None = None, env: dict[str, str] | None = None) -> ServiceUpdate:
    state: dict[str, Any] = {
        "key": "u#0",
        "targets": [],
        "image": image,
        "env": env or {},
        "force_before": 4,
    }
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


# ---------------------------------------------------------------- with a fake engine
class FakeContainers:
    """Only what StoppedFault's revert touches; a task container must never be started."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def status(self, container_id: str) -> str:
        return "exited"

    def start(self, container_id: str) -> None:
        self.started.append(container_id)

    def wait_status(self, container_id: str, wanted: set[str], *, timeout: float) -> str:
        return "running" if container_id in self.started else "exited"


class FakeSwarm:
    """A service with a replica count and an update log, as the Swarm port sees it."""

    def __init__(self, replicas: int = 3, gone: bool = False) -> None:
        self.replicas = replicas
        self.gone = gone
        self.calls: list[str] = []

    def wait_replaced(self, stack: str, targets: Any, timeout: float) -> list[dict[str, Any]]:
        if self.gone:
            from harness.errors import TargetNotFound

            raise TargetNotFound(f"swarm stack {stack} has no service app any more")
        self.calls.append(f"wait_replaced {stack} {[t['number'] for t in targets]} {timeout:.0f}")
        return [{"service": "app", "slot": 2, "task": "new", "container": "c", "running_wall": 1.0}]

    def service_id(self, stack: str, service: str) -> str:
        return "sid"

    def inspect_service(self, sid: str) -> dict[str, Any]:
        return {"Spec": {"Name": "st_app", "Mode": {"Replicated": {"Replicas": self.replicas}}}}

    def replicated_count(self, doc: Any) -> int:
        return int(doc["Spec"]["Mode"]["Replicated"]["Replicas"])

    def update_service(self, sid: str, mutate: Any) -> None:
        spec: dict[str, Any] = {"Mode": {"Replicated": {"Replicas": self.replicas}}}
        mutate(spec)
        self.replicas = spec["Mode"]["Replicated"]["Replicas"]
        self.calls.append(f"scale {self.replicas}")

    def wait_running(self, stack: str, service: str, count: int, timeout: float, **_: Any) -> None:
        self.calls.append(f"wait_running {count}")

    def running_task_ids(self, stack: str, service: str) -> list[str]:
        return ["a", "b", "c"]

    def new_running_tasks(self, stack: str, service: str, before: Any) -> list[dict[str, Any]]:
        return []


TASK = {"id": "cid2", "name": "st_app.2.t2", "service": "app", "number": 2, "task": "t2"}
PLAIN = {"id": "cid9", "name": "p-app-1", "service": "app", "number": 1, "task": ""}


def test_a_killed_swarm_task_is_never_started_again_and_its_replacement_is_recorded() -> None:
    fake_c, fake_s = FakeContainers(), FakeSwarm()
    ctx = FaultContext(project="st", run_id="r", containers=fake_c, platform=fake_s)  # type: ignore[arg-type]
    kill = registry.get("kill")(ctx, {"key": "k#0", "targets": [TASK, PLAIN], "signal": "SIGKILL"})
    kill.revert()
    assert fake_c.started == ["cid9"]  # the compose container only
    kill.verify_reverted()
    assert fake_s.calls == ["wait_replaced st [2] 60"]  # at least 60 s for a new task
    assert kill.state["replaced"][0]["task"] == "new"


def test_a_task_whose_stack_is_gone_is_reported_gone_not_failed() -> None:
    gone: list[tuple[str, str]] = []
    ctx = FaultContext(
        project="st",
        run_id="r",
        on_gone=lambda name, phase, reason: gone.append((name, phase)),
        containers=FakeContainers(),  # type: ignore[arg-type]
        platform=FakeSwarm(gone=True),  # type: ignore[arg-type]
    )
    kill = registry.get("kill")(ctx, {"key": "k#0", "targets": [TASK], "signal": "SIGKILL"})
    kill.verify_reverted()
    assert gone == [("st_app.2.t2", "revert")]


def test_service_scale_sets_the_count_back_only_while_it_is_its_own() -> None:
    fake = FakeSwarm(replicas=3)
    ctx = FaultContext(project="st", run_id="r", engine="swarm", platform=fake)  # type: ignore[arg-type]
    state = {"key": "s#0", "targets": [], "replicas": 1, "original": 3, "service_id": "sid",
             "service": "app", "tasks_before": ["a", "b", "c"]}  # fmt: skip
    scale = registry.get("service-scale")(ctx, dict(state))
    scale.apply()
    scale.verify()
    scale.revert()
    scale.verify_reverted()
    assert fake.calls == ["scale 1", "wait_running 1", "scale 3", "wait_running 3"]
    fake.calls.clear()
    fake.replicas = 5  # someone scaled it meanwhile: their count stays
    registry.get("service-scale")(ctx, dict(state)).revert()
    assert fake.calls == []


def _scenario(engine: str, fault: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "s",
        "stack": {"compose": "c.yaml", "target": {"service": "lb", "port": 80}, "engine": engine},
        "load": {"model": "open", "rps": 1},
        "timing": {"duration": 10},
        "faults": [fault],
    }


SCALE = {"type": "service-scale", "target": {"service": "app"}, "replicas": 1, "at": 1, "for": 1}
KILL = {"type": "kill", "target": {"service": "app"}, "at": 1, "for": 1}


def test_validation_refuses_a_swarm_only_fault_on_compose_and_keeps_the_rest() -> None:
    from pydantic import ValidationError

    from harness.faults.catalog import Scenario

    needs = re.escape("needs `stack.engine: kubernetes or swarm`, and")
    with pytest.raises(ValidationError, match=needs):
        Scenario.model_validate(_scenario("compose", SCALE))
    Scenario.model_validate(_scenario("swarm", SCALE))
    Scenario.model_validate(_scenario("swarm", KILL))  # container faults run on both
    Scenario.model_validate(_scenario("compose", KILL))
