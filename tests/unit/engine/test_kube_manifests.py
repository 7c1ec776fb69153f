"""Kubernetes manifests: read, refused when they would leave the run's namespace, ordered,
and seen by the scenario checks as services with replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.kubernetes import manifests
from harness.errors import ScenarioError

REPO = Path(__file__).resolve().parents[3]

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 3
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: example/app:1}]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: NodePort
  selector: {app: app}
  ports: [{port: 8080, targetPort: 8000}]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_is_read_in_apply_order(tmp_path: Path) -> None:
    write(tmp_path, "a-deploy.yaml", DEPLOY)
    write(tmp_path, "b-service.yml", SERVICE)
    write(tmp_path, "notes.txt", "not a manifest")
    objects = manifests.load(tmp_path)
    # The Service first: its pods then get the Service's environment variables.
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Service", "front"),
        ("Deployment", "app"),
    ]


def test_a_list_is_expanded_and_empty_documents_skipped(tmp_path: Path) -> None:
    text = "---\n---\napiVersion: v1\nkind: List\nitems:\n" + "".join(
        "  - " + line + "\n" if i == 0 else "    " + line + "\n"
        for i, line in enumerate(SERVICE.splitlines())
    )
    objects = manifests.load(write(tmp_path, "list.yaml", text))
    assert [o["metadata"]["name"] for o in objects] == ["front"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "cluster-wide"),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n",
            "cluster-wide",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: prod}\n",
            "names namespace 'prod'",
        ),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "metadata.name"),
        ("- just\n- a list\n", "not a mapping"),
    ],
)
def test_objects_that_would_leave_the_namespace_are_refused(
    tmp_path: Path, text: str, why: str
) -> None:
    with pytest.raises(ScenarioError, match=why):
        manifests.load(write(tmp_path, "bad.yaml", text))


def test_an_object_defined_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", SERVICE)
    write(tmp_path, "two.yaml", SERVICE)
    with pytest.raises(ScenarioError, match="Service 'front' is defined twice"):
        manifests.load(tmp_path)


def test_nothing_at_all_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="holds no Kubernetes object"):
        manifests.load(write(tmp_path, "empty.yaml", "# nothing\n"))


def test_too_large_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_BYTES", 100)
    write(tmp_path, "a.yaml", DEPLOY)
    with pytest.raises(ScenarioError, match="larger than 100 bytes"):
        manifests.load(tmp_path)


def test_definition_has_workloads_and_node_ports(tmp_path: Path) -> None:
    objects = manifests.load(write(tmp_path, "all.yaml", DEPLOY + "---\n" + SERVICE))
    config = manifests.definition(tmp_path, objects)
    assert sorted(config.services) == ["app", "front"]
    assert config.services["app"].replicas == 3
    assert config.services["app"].ports == ()
    # The NodePort Service is a service of the stack, published on 8080, with the
    # replicas of the workload it selects.
    assert config.services["front"].ports == (8080,)
    assert config.services["front"].replicas == 3
    assert config.replicas() == {"app": 3, "front": 3}


def test_host_namespaces_are_seen(tmp_path: Path) -> None:
    text = DEPLOY.replace(
        "      containers:", "      hostNetwork: true\n      hostPID: true\n      containers:"
    )
    config = manifests.definition(tmp_path, manifests.load(write(tmp_path, "d.yaml", text)))
    assert config.services["app"].network_mode == "host"
    assert config.services["app"].pid == "host"


def test_images_lists_every_container(tmp_path: Path) -> None:
    text = DEPLOY.replace(
        "      containers:",
        "      initContainers: [{name: init, image: example/init:2}]\n      containers:",
    )
    assert manifests.images(manifests.load(write(tmp_path, "d.yaml", text))) == [
        "example/app:1",
        "example/init:2",
    ]


def test_the_reference_manifests_read_as_the_compose_stack() -> None:
    folder = REPO / "k8s" / "web-ha"
    objects = [
        o
        for f in sorted(folder.glob("*.yaml"))
        if f.name != "kustomization.yaml"
        for o in manifests.load(f)
    ]
    config = manifests.definition(folder, objects)
    assert config.replicas() == {"app": 3, "lb": 1, "redis": 1}
    assert config.services["lb"].ports == (8080,)
