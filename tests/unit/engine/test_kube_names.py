"""Kubernetes adapter: names and ids validated before they reach the API, a namespace's
owner read from its label and run annotation, image names as containerd spells them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.engine.kubernetes import helper_pods, images, namespaces, pods
from harness.errors import EngineError, FaultError


def _ns(labels: dict[str, str] | None, annotations: dict[str, str] | None) -> SimpleNamespace:
    return SimpleNamespace(metadata=SimpleNamespace(labels=labels, annotations=annotations))


OURS = {"app.kubernetes.io/managed-by": "hachaos", "io.hachaos/owned": "true"}


def test_a_namespace_is_a_runs_only_with_both_labels_and_the_run_annotation() -> None:
    assert namespaces.owner_run(_ns(OURS, {"io.hachaos/run-id": "r1"})) == "r1"
    assert namespaces.owner_run(_ns(OURS, None)) is None  # look-alike: no run
    assert (
        namespaces.owner_run(_ns({"io.hachaos/owned": "true"}, {"io.hachaos/run-id": "r1"})) is None
    )
    assert namespaces.owner_run(_ns(None, {"io.hachaos/run-id": "r1"})) is None


@pytest.mark.parametrize("name", ["hachaos-x-1a2b3c", "a", "a" * 63])
def test_valid_names_pass(name: str) -> None:
    assert pods.check_name(name) == name


@pytest.mark.parametrize("name", ["", "Upper", "under_score", "-lead", "trail-", "a" * 64, "a b"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(EngineError, match="not a valid Kubernetes name"):
        pods.check_name(name)


def test_target_ids_are_split_and_anything_else_refused() -> None:
    assert pods.split_id("ns-1/app-5d8f-x2x9z/app") == ("ns-1", "app-5d8f-x2x9z", "app")
    for bad in ("ns/pod", "ns/pod/c/x", "NS/pod/c", "ns/pod/c;rm -rf /", "ns/pod/$(x)"):
        with pytest.raises(FaultError, match="not a Kubernetes target id"):
            pods.split_id(bad)


def test_helper_names_are_pod_names() -> None:
    # a run id starts with a UTC stamp in capitals: pods want lowercase
    assert helper_pods.helper_name("hachaos-20261207T120000Z-ab-t1-2") == (
        "hachaos-20261207t120000z-ab-t1-2"
    )
    assert len(helper_pods.helper_name("h" * 80)) == 63


def test_the_helper_pod_outlives_the_script_deadline_by_the_slack() -> None:
    script = "revert() { true\n}\necho READY\nsleep 41 & wait $!\n"
    assert helper_pods._deadline_of(script) == 41.0
    assert helper_pods._deadline_of("echo no deadline") == 3600.0


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("hachaos/web-app:dev", "docker.io/hachaos/web-app:dev"),
        ("redis", "docker.io/library/redis:latest"),
        ("k8s.gcr.io/pause:3.2", "k8s.gcr.io/pause:3.2"),
        ("localhost:5000/x:1", "localhost:5000/x:1"),
    ],
)
def test_docker_short_names_as_containerd_lists_them(short: str, full: str) -> None:
    assert images._normal(short) == full
