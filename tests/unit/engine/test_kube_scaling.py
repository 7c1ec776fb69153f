"""The Kubernetes adapter's part of a capacity experiment: replicas and overlays, no cluster.

Both only change what the adapter would create (its objects), so they are checked on the
manifests it reads; creating them is the real cluster's business (tests/e2e, issue 24).
"""

from __future__ import annotations

from pathlib import Path

from harness.engine.kubernetes.engine import KubernetesEngine
from tests.unit.engine.test_kube_manifests import DEPLOY, SERVICE

STATEFUL = DEPLOY.replace("kind: Deployment", "kind: StatefulSet").replace(
    "name: app}", "name: db}"
)


def _stack(folder: Path, *docs: str) -> Path:
    folder.mkdir()
    (folder / "stack.yaml").write_text("---\n".join(docs), encoding="utf-8")
    return folder


def test_with_replicas_sets_the_named_workloads_count_only(tmp_path: Path) -> None:
    path = _stack(tmp_path / "base", DEPLOY, SERVICE, STATEFUL)
    engine = KubernetesEngine(path, "hachaos-cap-1", "run-1")
    scaled = engine.with_replicas("app", 1).with_replicas("front", 5).with_replicas("db", 2)
    by_name = {o["metadata"]["name"]: o for o in scaled.objects()}
    assert by_name["app"]["spec"]["replicas"] == 1
    assert by_name["db"]["spec"]["replicas"] == 2
    assert "replicas" not in by_name["front"]["spec"]  # a Service has no replicas
    assert {o["metadata"]["name"]: o["spec"].get("replicas") for o in engine.objects()} == {
        "app": 3,
        "db": 3,
        "front": None,
    }  # the engine it came from is unchanged


def test_with_overrides_reads_the_last_overlay(tmp_path: Path) -> None:
    base = _stack(tmp_path / "base", DEPLOY, SERVICE)
    overlay = _stack(tmp_path / "overlay", DEPLOY.replace("replicas: 3", "replicas: 4"), SERVICE)
    engine = KubernetesEngine(base, "hachaos-cap-2", "run-2")
    assert engine.with_overrides([]) is engine
    varied = engine.with_overrides([overlay]).with_replicas("app", 2)
    assert varied.file == overlay
    assert {o["metadata"]["name"]: o["spec"].get("replicas") for o in varied.objects()} == {
        "app": 2,
        "front": None,
    }
