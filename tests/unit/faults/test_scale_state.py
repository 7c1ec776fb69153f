"""The scale fault's undo state (journaled as is) names containers and holds no config.

The engine is faked: ``inspect`` answers a document with secrets in it, as the
real one does, and any other call to Docker fails the test.
"""

from __future__ import annotations

import json
from typing import Any

from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.scale import Scale, ScaleFault
from harness.scenario.plan import PlannedFault

SECRET = "s3cr3t-token-value"


class FakeContainers:
    """The engine: ``inspect`` holds secrets, as the real one does; any call not
    defined here fails the test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def inspect(self, container_id: str) -> dict[str, Any]:
        return {
            "Id": container_id,
            "Name": "/app-2",
            "Config": {"Image": "app:dev", "Env": [f"API_TOKEN={SECRET}", "PATH=/bin"]},
            "HostConfig": {"RestartPolicy": {"Name": "always"}},
            "NetworkSettings": {"Networks": {"proj_default": {"Aliases": ["app"]}}},
        }

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected engine call {name}")


def _ctx(engine: FakeContainers) -> FaultContext:
    return FaultContext(project="proj", run_id="r1", containers=engine)  # type: ignore[arg-type]


def _step() -> PlannedFault:
    spec = ScaleFault.model_validate(
        {"type": "scale", "target": {"service": "app"}, "at": 0, "for": 10}
    )
    return PlannedFault(0, 0, "scale-1", "scale", spec, "app", (2,), 5.0, 15.0)


TARGET = Target(id="c0ffee" * 10 + "abcd", name="app-2", service="app", number=2)


def test_scale_state_holds_no_environment() -> None:
    state = Scale.plan(_step(), [TARGET], _ctx(FakeContainers()))
    journaled = json.dumps(state)
    assert SECRET not in journaled and "API_TOKEN" not in journaled and "Env" not in journaled
    # exactly what the revert needs: the target, and the name of its parked copy
    assert state["targets"] == [
        {"id": TARGET.id, "name": "app-2", "service": "app", "number": 2, "task": ""}
    ]
    assert state["parked"] == {TARGET.id: f"app-2-hachaos-parked-{state['tag']}"}
    assert state["key"] == "scale-1#0"


def test_scale_revert_recreates_from_the_parked_copy() -> None:
    calls: list[tuple[str, str]] = []

    class Removed(FakeContainers):
        def exists(self, ref: str) -> bool:
            return False  # the original was removed

        def find_by_name(self, name: str) -> str | None:
            return None

        def unpark(self, name: str) -> str:
            calls.append(("unpark", name))
            return "new"

    state = {
        "key": "scale-1#0",
        "targets": [{"id": TARGET.id, "name": "app-2", "service": "app", "number": 2, "task": ""}],
        "tag": "0a1b2c3d",
        "deadline": 40.0,
        "parked": {TARGET.id: "app-2-hachaos-parked-0a1b2c3d"},
    }
    Scale(_ctx(Removed()), state).revert()
    assert calls == [("unpark", "app-2-hachaos-parked-0a1b2c3d")]
