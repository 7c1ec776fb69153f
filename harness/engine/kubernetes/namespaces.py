"""The run's namespace: the blast radius of a Kubernetes run, as the stack label is on Swarm.

Created with hachaos's label and the run id as an annotation; removed only when both are
still on it, so a namespace of the same name that hachaos did not create (or that
another run created) is never touched. Deleting the namespace deletes everything in
it (pods, helpers, Services); the removal waits until it is gone.
"""

from __future__ import annotations

import time

from kubernetes import client as k8s

from harness.engine.kubernetes.cluster import Cluster, translated
from harness.engine.kubernetes.pods import check_name
from harness.errors import EngineError, TargetNotFound

MANAGED_BY = "app.kubernetes.io/managed-by"
OWNER_LABEL = "io.hachaos/owned"
RUN_ANNOTATION = "io.hachaos/run-id"
GONE_TIMEOUT = 180.0  # s for a namespace to finish terminating


def read(cluster: Cluster, name: str) -> k8s.V1Namespace | None:
    """The namespace, or None."""
    try:
        with translated(f"read namespace {name}"):
            return cluster.core.read_namespace(check_name(name), _request_timeout=30)
    except TargetNotFound:
        return None


def owner_run(ns: k8s.V1Namespace) -> str | None:
    """The run that created a namespace, when hachaos did (label and annotation)."""
    labels = ns.metadata.labels or {}
    if labels.get(OWNER_LABEL) != "true" or labels.get(MANAGED_BY) != "hachaos":
        return None
    run = (ns.metadata.annotations or {}).get(RUN_ANNOTATION)
    return str(run) if run else None


def create(cluster: Cluster, name: str, run_id: str) -> None:
    """Create the run's namespace (the API refuses one that exists: 409)."""
    body = k8s.V1Namespace(
        metadata=k8s.V1ObjectMeta(
            name=check_name(name),
            labels={MANAGED_BY: "hachaos", OWNER_LABEL: "true"},
            annotations={RUN_ANNOTATION: run_id},
        )
    )
    with translated(f"create namespace {name}"):
        cluster.core.create_namespace(body, _request_timeout=30)


def remove(cluster: Cluster, name: str, run_id: str, *, timeout: float = GONE_TIMEOUT) -> bool:
    """Delete the namespace if this run created it, and wait until it is gone.

    Returns False (and touches nothing) when it does not exist or is not this run's.
    """
    ns = read(cluster, name)
    if ns is None or owner_run(ns) != run_id:
        return False
    try:
        with translated(f"delete namespace {name}"):
            cluster.core.delete_namespace(
                name,
                body=k8s.V1DeleteOptions(propagation_policy="Foreground"),
                _request_timeout=30,
            )
    except TargetNotFound:
        return True
    wait_gone(cluster, name, timeout)
    return True


def wait_gone(cluster: Cluster, name: str, timeout: float) -> None:
    """Wait until the namespace no longer exists."""
    deadline = time.monotonic() + timeout
    while read(cluster, name) is not None:
        if time.monotonic() > deadline:
            raise EngineError(
                f"namespace {name} was still terminating after {timeout:.0f} s",
                hint=f"look at `kubectl get namespace {name} -o yaml` (finalizers) and "
                "`kubectl -n {name} get pods`",
            )
        time.sleep(0.5)


def describe(cluster: Cluster, name: str) -> str:
    """What a namespace holds, for a refusal message (``namespace x (3 pods)``)."""
    with translated(f"list pods of namespace {name}"):
        count = len(cluster.core.list_namespaced_pod(name, _request_timeout=30).items)
    return f"namespace {name} ({count} pod{'s' if count != 1 else ''})"
