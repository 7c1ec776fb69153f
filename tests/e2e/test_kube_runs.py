"""The Kubernetes scenarios, run for real on the local cluster (make kube; docs/engines.md).

Each test deploys k8s/web-ha into a run-scoped namespace. A look-alike namespace (the
same labels hachaos puts on its own, another run's id, a Deployment also called `app`)
checks the blast radius; a `kill -9` of a run checks that `hachaos cleanup` removes the
namespace it left, its pods, helpers and the Services' iptables rules.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, end_children, events, load_json, only_run_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.kubernetes, pytest.mark.docker]
LOCK = Path("/tmp/hachaos-kube.lock")  # shared here; the cluster's down/up test takes it alone

STATE = Path(os.environ.get("HACHAOS_KUBE_STATE", "/var/lib/hachaos/kube"))
KUBECONFIG = STATE / "admin.kubeconfig"
KUBECTL = "/var/cache/hachaos/kube/bin/kubectl"

LOOKALIKE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels: {{app.kubernetes.io/managed-by: hachaos, io.hachaos/owned: "true"}}
  annotations: {{io.hachaos/run-id: not-this-run}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: look}}}}
  template:
    metadata: {{labels: {{app: look}}}}
    spec:
      containers: [{{name: pause, image: k8s.gcr.io/pause:3.2, imagePullPolicy: Never}}]
"""


def kubectl(*args: str, timeout: float = 60, stdin: str | None = None) -> str:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(KUBECONFIG), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    ).stdout


@pytest.fixture(scope="module", autouse=True)
def a_cluster() -> Iterator[None]:
    with LOCK.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)  # no down/up of the cluster while these run
        if not KUBECONFIG.exists() or "ok" not in kubectl("get", "--raw", "/readyz"):
            pytest.fail("the local cluster is not up: run `make kube` (scripts/ensure-kube)")
        yield


def namespace_exists(name: str) -> bool:
    return bool(kubectl("get", "namespace", name, "-o", "name").strip())


def pod_uids(namespace: str) -> list[str]:
    out = kubectl("get", "pods", "-n", namespace, "-o", "jsonpath={.items[*].metadata.uid}")
    return sorted(out.split())


def iptables_mentions(namespace: str) -> list[str]:
    """Host iptables lines that name the namespace (kube-proxy's Service rules do)."""
    dump = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout
    return [line for line in dump.splitlines() if f"{namespace}/" in line]


@pytest.fixture
def namespaces_after() -> Iterator[list[str]]:
    """Namespaces registered here are deleted after the test whatever happened (not
    waited for: the tests' names are their own, and the wait cost ~27 s a test)."""
    names: list[str] = []
    yield names
    for name in names:
        kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false", timeout=60)


@pytest.fixture
def lookalike(namespaces_after: list[str]) -> tuple[str, list[str]]:
    name = f"hachaos-e2e-look-{secrets.token_hex(3)}"
    namespaces_after.append(name)
    kubectl("apply", "-f", "-", stdin=LOOKALIKE.format(name=name))
    deadline = time.monotonic() + 120
    while not kubectl("get", "pods", "-n", name, "-o", "name").strip():
        assert time.monotonic() < deadline, "the look-alike namespace got no pod"
        time.sleep(1)
    return name, pod_uids(name)


def _run(scenario: str, out: Path, ns: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, "run", scenario, "--quiet", "--out", str(out), "--project", ns],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )


def test_kube_kill_pod_names_the_replacement_and_leaves_a_lookalike_alone(
    tmp_path: Path, namespaces_after: list[str], lookalike: tuple[str, list[str]]
) -> None:
    look, look_pods = lookalike
    ns = f"hachaos-e2e-kk-{secrets.token_hex(3)}"
    namespaces_after.append(ns)
    proc = _run("scenarios/kube-kill-pod.yaml", tmp_path / "out", ns, tmp_path / "state")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "pass"
    faults = [e for e in events(run_dir) if e["kind"].startswith("fault.")]
    assert [(e["kind"], e["ok"]) for e in faults] == [("fault.apply", True), ("fault.revert", True)]
    killed = faults[0]["targets"][0]
    (replaced,) = faults[1]["replaced"]
    assert replaced["old_task"] == killed and replaced["name"] != killed
    assert replaced["name"].startswith("app-")
    assert replaced["running_wall"] > faults[0]["wall_start"]
    (row,) = summary["swarm"]
    assert row["replica_dip"] is True and 0 < row["time_to_desired_s"] < 30
    # the reports name the replacement pod, beside the time to the desired replica count
    for report in ("summary.md", "report.html"):
        text = (run_dir / report).read_text()
        assert replaced["name"] in text and "Time to the desired replica count" in text
    assert not namespace_exists(ns)  # teardown waited until the namespace was gone
    assert pod_uids(look) == look_pods  # the look-alike's pods are untouched


def test_kube_partition_is_applied_and_reverted_through_a_helper_pod(
    tmp_path: Path, namespaces_after: list[str]
) -> None:
    ns = f"hachaos-e2e-kp-{secrets.token_hex(3)}"
    namespaces_after.append(ns)
    proc = _run("scenarios/kube-partition-redis.yaml", tmp_path / "out", ns, tmp_path / "state")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # expected verdict: fail
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    assert summary["errors"] == []
    evs = events(run_dir)
    applies = [e for e in evs if e["kind"] == "fault.apply"]
    reverts = [e for e in evs if e["kind"] == "fault.revert"]
    # apply verified the DROP rules in each app pod's netns; revert verified them gone
    assert [e["ok"] for e in applies] == [True] and [e["ok"] for e in reverts] == [True]
    assert len(applies[0]["targets"]) == 3
    # the clients saw it: requests failed during the partition
    assert summary["metrics"]["overall"]["availability"] < 0.99
    assert not namespace_exists(ns)


def _helpers(ns: str) -> list[str]:
    return kubectl("get", "pods", "-n", ns, "-l", "io.hachaos/helper", "-o", "name").split()


def _journal_ops(state: Path, ns: str) -> list[str]:
    """The ops the run of namespace ``ns`` wrote to its journal so far (a torn last line
    is skipped)."""
    ops = []
    for journal in (state / "hachaos" / "journal").glob(f"*-{ns}.jsonl"):
        for line in journal.read_text().splitlines():
            try:
                ops.append(str(json.loads(line)["op"]))
            except (ValueError, KeyError):
                continue
    return ops


# Self-chaos points of the Kubernetes path: SIGKILL of hachaos while it deploys (the
# namespace exists, its pods are on their way), while the partition is active (helper
# pods in every app pod's netns) and right after the revert began (its journal says
# so; polled on the file: on a busy host the helpers may come and go between two looks
# at the cluster).
KILL_POINTS: dict[str, Callable[[str, Path], bool]] = {
    "deploy": lambda ns, state: namespace_exists(ns),
    "active": lambda ns, state: len(_helpers(ns)) >= 3,
    "revert": lambda ns, state: "revert" in _journal_ops(state, ns),
}


def _kill_at_stages(runs: dict[str, tuple[str, subprocess.Popen[str]]], state: Path) -> None:
    """SIGKILL each run once its namespace reaches its stage (runs maps stage -> (ns, proc))."""
    pending = set(runs)
    deadline = time.monotonic() + 480
    while pending:
        # the journal's revert mark first: a file read, quicker than a look at the cluster
        for stage in sorted(pending, reverse=True):
            ns, proc = runs[stage]
            assert proc.poll() is None, f"the run to kill at {stage!r} ended before it"
            if KILL_POINTS[stage](ns, state):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                pending.discard(stage)
        assert time.monotonic() < deadline, f"never reached: {sorted(pending)}"
        time.sleep(0.1)


def test_kill_9_at_three_stages_then_cleanup_removes_each_namespace_and_nothing_else(
    tmp_path: Path, namespaces_after: list[str], lookalike: tuple[str, list[str]]
) -> None:
    """The three kill points run at once (three namespaces on the cluster): one third of
    the wall time of three runs in a row; one journal folder, so one cleanup serves all."""
    look, look_pods = lookalike
    state = tmp_path / "state"
    runs: dict[str, tuple[str, subprocess.Popen[str]]] = {}
    try:
        for stage in sorted(KILL_POINTS):
            ns = f"hachaos-e2e-k9{stage[0]}-{secrets.token_hex(3)}"
            namespaces_after.append(ns)
            runs[stage] = (
                ns,
                subprocess.Popen(
                    [
                        *HACHAOS,
                        "run",
                        "scenarios/kube-partition-redis.yaml",
                        "--quiet",
                        "--out",
                        str(tmp_path / "out" / stage),
                        "--project",
                        ns,
                    ],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    env={**os.environ, "XDG_STATE_HOME": str(state)},
                ),
            )
        _kill_at_stages(runs, state)
    finally:
        for _, proc in runs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
        end_children(tmp_path / "out")
    journaled: dict[str, dict[str, Any]] = {}
    for journal in (state / "hachaos" / "journal").glob("*.jsonl"):
        lines = [json.loads(x) for x in journal.read_text().splitlines()]
        stack_line = next(e for e in lines if e["op"] == "stack")
        journaled[stack_line["namespace"]] = stack_line
    for stage, (ns, _) in runs.items():
        assert namespace_exists(ns), stage
        # recorded before the namespace was created
        assert journaled[ns]["created"] is True, stage
    cleaned = subprocess.run(
        [*HACHAOS, "cleanup"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    helpers = kubectl(
        "get",
        "pods",
        "-A",
        "-l",
        "io.hachaos/helper",
        "-o",
        "jsonpath={.items[*].metadata.namespace}",
    ).split()
    for stage, (ns, _) in runs.items():
        assert f"namespace {ns}" in cleaned.stdout, stage
        assert not namespace_exists(ns), stage  # its pods and helper pods went with it
        assert ns not in helpers, stage
        assert iptables_mentions(ns) == [], stage  # kube-proxy removed the Services' rules
    assert namespace_exists(look) and pod_uids(look) == look_pods  # the look-alike is untouched
