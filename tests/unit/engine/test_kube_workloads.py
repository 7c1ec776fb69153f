"""Kubernetes workloads shown to the service faults as Swarm service documents: each change
of the document becomes the Kubernetes change that means the same (no cluster: the API
reads and patches are recorded)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.engine.kubernetes import workloads


def _deployment(replicas: int = 3, force: str | None = None) -> SimpleNamespace:
    env = [SimpleNamespace(name="MODE", value="a", value_from=None)]
    container = SimpleNamespace(name="app", image="example/app:1", env=env)
    annotations = {workloads.FORCE_ANNOTATION: force} if force else None
    template = SimpleNamespace(
        metadata=SimpleNamespace(annotations=annotations),
        spec=SimpleNamespace(containers=[container]),
    )
    status = SimpleNamespace(
        conditions=[],
        observed_generation=2,
        updated_replicas=replicas,
        ready_replicas=replicas,
        replicas=replicas,
    )
    return SimpleNamespace(
        metadata=SimpleNamespace(generation=2),
        spec=SimpleNamespace(replicas=replicas, template=template),
        status=status,
    )


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    obj = _deployment()
    monkeypatch.setattr(workloads, "for_namespace", lambda ns: None)
    monkeypatch.setattr(workloads, "_read", lambda cluster, kind, name, ns: obj)
    monkeypatch.setattr(
        workloads, "_patch", lambda cluster, kind, name, ns, body: seen.append(body)
    )
    return seen


SID = "ns-1/Deployment/app"


def test_the_document_reads_the_workload(patches: list[dict[str, Any]]) -> None:
    doc = workloads.inspect_service(SID)
    assert workloads.replicated_count(doc) == 3
    task = doc["Spec"]["TaskTemplate"]
    assert task["ForceUpdate"] == 0
    assert task["ContainerSpec"] == {"Image": "example/app:1", "Env": ["MODE=a"]}
    assert doc["UpdateStatus"]["State"] == "completed"


def test_scale_is_spec_replicas(patches: list[dict[str, Any]]) -> None:
    def scale(spec: dict[str, Any]) -> None:
        spec["Mode"]["Replicated"]["Replicas"] = 1

    workloads.update_service(SID, scale)
    assert patches == [{"spec": {"replicas": 1}}]


def test_a_forced_update_is_a_new_template(patches: list[dict[str, Any]]) -> None:
    def force(spec: dict[str, Any]) -> None:
        spec["TaskTemplate"]["ForceUpdate"] += 1

    workloads.update_service(SID, force)
    assert patches == [
        {"spec": {"template": {"metadata": {"annotations": {workloads.FORCE_ANNOTATION: "1"}}}}}
    ]


def test_image_and_env_go_to_the_first_container(patches: list[dict[str, Any]]) -> None:
    def change(spec: dict[str, Any]) -> None:
        cs = spec["TaskTemplate"]["ContainerSpec"]
        cs["Image"] = "example/app:2"
        cs["Env"] = [*cs["Env"], "EXTRA=1"]

    workloads.update_service(SID, change)
    (body,) = patches
    (container,) = body["spec"]["template"]["spec"]["containers"]
    assert container == {
        "name": "app",
        "image": "example/app:2",
        "env": [{"name": "MODE", "value": "a"}, {"name": "EXTRA", "value": "1"}],
    }


def test_no_change_no_patch(patches: list[dict[str, Any]]) -> None:
    workloads.update_service(SID, lambda spec: None)
    assert patches == []


def test_rollout_state() -> None:
    done = _deployment()
    assert workloads._state(done) == "completed"
    rolling = _deployment()
    rolling.status.updated_replicas = 1
    assert workloads._state(rolling) == "updating"
    stuck = _deployment()
    stuck.status.conditions = [
        SimpleNamespace(type="Progressing", reason="ProgressDeadlineExceeded")
    ]
    assert workloads._state(stuck) == "paused"
