"""Load workers placed by the Kubernetes engine (`load.workers.kubernetes`, docs/load.md),
for real on the local cluster (make kube).

The stack is one tiny HTTP target: a Deployment of the worker image itself running
``python3 -m http.server`` behind a NodePort Service (no other image is needed: the
worker image is the one hachaos builds and loads into the cluster anyway).

- A whole run with 2 worker pods: every arrival of the open schedule is recorded exactly
  once, by the two pods (their host names are the pods' names), and the workers'
  Deployment is gone after.
- SIGKILL of hachaos while its workers run, then `hachaos cleanup`: the Deployment is
  removed (by its labels and run annotation), then the namespace.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.engine.worker_image import ensure_worker_image
from harness.load.bundle import worker_bundle
from tests.e2e.conftest import HACHAOS, ROOT, end_children, only_run_dir, open_schedule
from tests.e2e.test_kube_runs import KUBECONFIG, LOCK, kubectl, namespace_exists

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.kubernetes, pytest.mark.docker]

RPS, TOTAL_S, WORKERS = 25, 16.0, 2  # the scenario's rate, warmup + duration + cooldown
DEPLOYMENT = "hachaos-load-workers"

MANIFESTS = """\
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  type: NodePort
  selector: {{app: web}}
  ports: [{{port: 8000, targetPort: 8000}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: web
          image: {image}
          imagePullPolicy: Never
          command: [python3, -m, http.server, "8000", --directory, /opt]
          readinessProbe: {{tcpSocket: {{port: 8000}}, periodSeconds: 1}}
"""

SCENARIO = f"""\
version: 1
name: kube-workers
stack:
  engine: kubernetes
  manifests: web.yaml
  target: {{service: web, port: 8000}}
  ready_path: /
  ready_timeout: 180s
  container_metrics: false
load:
  model: open
  rps: {RPS}
  timeout: 2s
  mix: {{read: 100, write: 0, read_item: 0}}
  workers:
    kubernetes: {{replicas: {WORKERS}, join_timeout: 180s}}
timing: {{warmup: 2s, duration: 12s, cooldown: 2s}}
report: {{formats: [json]}}
checks:
  availability:
    overall: 99%
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scenario and its manifests (the target runs the worker image), under the kube
    lock held shared like the other cluster tests."""
    with LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)  # no down/up of the cluster while these run
        if not KUBECONFIG.exists() or "ok" not in kubectl("get", "--raw", "/readyz"):
            pytest.fail("the local cluster is not up: run `make kube` (scripts/ensure-kube)")
        bundle = worker_bundle()
        image = ensure_worker_image(bundle.files, bundle.python, bundle.digest)
        folder = tmp_path_factory.mktemp("kube-workers")
        (folder / "web.yaml").write_text(MANIFESTS.format(image=image))
        (folder / "scenario.yaml").write_text(SCENARIO)
        yield folder / "scenario.yaml"


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"hachaos-e2e-kw-{secrets.token_hex(3)}"
    yield name
    kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false", timeout=60)


def _hachaos(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HACHAOS, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "XDG_STATE_HOME": str(out / "state")},
        start_new_session=True,
    )


@contextlib.contextmanager
def _run(out: Path, scenario: Path, namespace: str) -> Iterator[subprocess.Popen[str]]:
    """`hachaos run` in the background; killed with its Locust children if still running."""
    proc = _hachaos(
        out.parent, "run", str(scenario), "-q", "--out", str(out), "--project", namespace
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # hachaos and its Locust children
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate(timeout=30)
        end_children(out)


def _deployments(ns: str) -> list[str]:
    return kubectl("get", "deployments", "-n", ns, "-o", "name").split()


def test_two_worker_pods_record_every_scheduled_arrival_once(
    scenario: Path, namespace: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with _run(out, scenario, namespace) as proc:
        output, _ = proc.communicate(timeout=420)
    assert proc.returncode == 0, output
    folder = only_run_dir(out)
    samples = pq.read_table(folder / "samples.parquet").to_pandas()
    started = json.loads((folder / "samples" / "started.json").read_text())
    intended = sorted(round(v - started["t0"] * 1e6) for v in samples["intended_us"])
    expected = open_schedule(RPS, TOTAL_S, WORKERS)
    assert len(expected) == int(RPS * TOTAL_S)
    assert len(intended) == len(expected)  # none lost, none twice
    assert max(abs(a - b) for a, b in zip(intended, expected, strict=True)) <= 2
    assert set(samples["outcome"]) == {"ok"}
    assert samples.groupby("worker").size().to_dict() == {"w0": 200, "w1": 200}
    run = json.loads((folder / "run.json").read_text())
    assert run["load_workers"]["placed_by"] == "kubernetes"
    hosts = {w["host"] for w in run["load_workers"]["workers"]}
    assert len(hosts) == WORKERS and all(h.startswith(f"{DEPLOYMENT}-") for h in hosts)
    assert all(
        not w["local"] and w["clock_offset_ms"] is not None for w in run["load_workers"]["workers"]
    )
    # the master listened on the cluster bridge's gateway, not on every interface
    master = run["load_workers"]["master"].rsplit(":", 1)[0]
    assert master not in ("0.0.0.0", "127.0.0.1", "::")
    assert not namespace_exists(namespace)  # the workers went first, then the namespace


def test_sigkill_of_hachaos_then_cleanup_removes_the_worker_deployment(
    scenario: Path, namespace: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with _run(out, scenario, namespace) as proc:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if f"deployment.apps/{DEPLOYMENT}" in _deployments(namespace):
                break
            time.sleep(0.5)
        assert f"deployment.apps/{DEPLOYMENT}" in _deployments(namespace), proc.poll()
    cleanup = _hachaos(tmp_path, "cleanup")
    output, _ = cleanup.communicate(timeout=300)
    assert cleanup.returncode == 0, output
    assert f"removed load worker Deployment {namespace}/{DEPLOYMENT}" in output
    assert f"namespace {namespace}" in output
    assert not namespace_exists(namespace)
