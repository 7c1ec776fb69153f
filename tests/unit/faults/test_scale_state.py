"""The scale fault's undo state (journaled as is) names containers and holds no config.

The engine is faked: ``inspect`` answers a document with secrets in it, as the
real one does, and any other call to Docker fails the test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.engine import containers
from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.scale import Scale
from harness.scenario.models import ScaleFault
from harness.scenario.plan import PlannedFault

SECRET = "s3cr3t-token-value"


def _inspect(container_id: str) -> dict[str, Any]:
    return {
        "Id": container_id,
        "Name": "/app-2",
        "Config": {"Image": "app:dev", "Env": [f"API_TOKEN={SECRET}", "PATH=/bin"]},
        "HostConfig": {"RestartPolicy": {"Name": "always"}},
        "NetworkSettings": {"Networks": {"proj_default": {"Aliases": ["app"]}}},
    }


def _no_docker() -> None:
    raise AssertionError("planning must not call the engine beyond inspect")


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "inspect", _inspect)
    monkeypatch.setattr(containers, "client", _no_docker)


def _step() -> PlannedFault:
    spec = ScaleFault.model_validate(
        {"type": "scale", "target": {"service": "app"}, "at": 0, "for": 10}
    )
    return PlannedFault(0, 0, "scale-1", "scale", spec, "app", (2,), 5.0, 15.0)


TARGET = Target(id="c0ffee" * 10 + "abcd", name="app-2", service="app", number=2)


def test_scale_state_holds_no_environment(engine: None) -> None:
    state = Scale.plan(_step(), [TARGET], FaultContext(project="proj", run_id="r1"))
    journaled = json.dumps(state)
    assert SECRET not in journaled and "API_TOKEN" not in journaled and "Env" not in journaled
    # exactly what the revert needs: the target, and the name of its parked copy
    assert state["targets"] == [
        {"id": TARGET.id, "name": "app-2", "service": "app", "number": 2, "task": ""}
    ]
    assert state["parked"] == {TARGET.id: f"app-2-hachaos-parked-{state['tag']}"}
    assert state["key"] == "scale-1#0"


def test_scale_revert_recreates_from_the_parked_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(containers, "exists", lambda ref: False)  # the original was removed
    monkeypatch.setattr(containers, "find_by_name", lambda name: None)
    monkeypatch.setattr(containers, "unpark", lambda name: calls.append(("unpark", name)) or "new")
    state = {
        "key": "scale-1#0",
        "targets": [{"id": TARGET.id, "name": "app-2", "service": "app", "number": 2, "task": ""}],
        "tag": "0a1b2c3d",
        "deadline": 40.0,
        "parked": {TARGET.id: "app-2-hachaos-parked-0a1b2c3d"},
    }
    Scale(FaultContext(project="proj", run_id="r1"), state).revert()
    assert calls == [("unpark", "app-2-hachaos-parked-0a1b2c3d")]
