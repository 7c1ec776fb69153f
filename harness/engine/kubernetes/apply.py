"""Create a stack's objects in the run's namespace and wait until its workloads are ready.

Objects are created through the dynamic client, which finds each kind's resource in the
cluster's own discovery, so any namespaced kind works (custom resources too). An object
whose ``apiVersion`` the cluster does not serve is retried on the older version that has
the same schema where there is one (``policy/v1`` PodDisruptionBudget on a 1.20 cluster).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from harness.engine.kubernetes.cluster import Cluster, translated
from harness.errors import EngineError

# Same schema for what a stack uses, served by older clusters only.
OLDER_VERSION = {
    ("policy/v1", "PodDisruptionBudget"): "policy/v1beta1",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "autoscaling/v2beta2",
    ("batch/v1", "CronJob"): "batch/v1beta1",
}


def _resource(dyn: DynamicClient, api_version: str, kind: str) -> Any:
    try:
        return dyn.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        older = OLDER_VERSION.get((api_version, kind))
        if older is None:
            raise EngineError(
                f"the cluster serves no {kind} in {api_version}",
                hint="use an apiVersion this cluster serves (`kubectl api-resources`)",
            ) from None
        return dyn.resources.get(api_version=older, kind=kind)


def create_all(
    cluster: Cluster, namespace: str, objects: Iterable[dict[str, Any]], *, adopt: bool = False
) -> list[str]:
    """Create each object in ``namespace``; returns ``Kind/name`` of each created, in order.

    ``adopt``: the namespace existed before the run (--adopt-existing): an object that
    exists already is left as it is."""
    with translated("discover the cluster's resources"):
        dyn = DynamicClient(cluster.api)
    done = []
    for obj in objects:
        body = dict(obj)
        body["metadata"] = {**obj["metadata"], "namespace": namespace}
        res = _resource(dyn, obj["apiVersion"], obj["kind"])
        body["apiVersion"] = res.group_version
        if not res.namespaced:  # manifests.check_object refuses the known ones; this the rest
            raise EngineError(f"{obj['kind']} {obj['metadata']['name']!r} is not namespaced")
        try:
            res.create(body=body, namespace=namespace)
        except ApiException as exc:
            if adopt and exc.status == 409:
                continue
            with translated(f"create {obj['kind']} {obj['metadata']['name']}"):
                raise
        done.append(f"{obj['kind']}/{obj['metadata']['name']}")
    return done


def _ready(cluster: Cluster, namespace: str) -> list[str]:
    """The workloads of the namespace that are not ready yet (``name ready/desired``)."""
    waiting = []
    with translated(f"list workloads of namespace {namespace}"):
        deps = cluster.apps.list_namespaced_deployment(namespace, _request_timeout=30).items
        sets = cluster.apps.list_namespaced_stateful_set(namespace, _request_timeout=30).items
        daemons = cluster.apps.list_namespaced_daemon_set(namespace, _request_timeout=30).items
    for w in [*deps, *sets]:
        want = int(w.spec.replicas if w.spec.replicas is not None else 1)
        st = w.status
        ready = int(st.ready_replicas or 0)
        updated = int(st.updated_replicas or 0)
        current = (st.observed_generation or 0) >= (w.metadata.generation or 0)
        if not current or ready < want or updated < want:
            waiting.append(f"{w.metadata.name} {ready}/{want}")
    for d in daemons:
        st = d.status
        if int(st.number_ready or 0) < int(st.desired_number_scheduled or 0):
            waiting.append(
                f"{d.metadata.name} {st.number_ready or 0}/{st.desired_number_scheduled}"
            )
    return waiting


def wait_ready(cluster: Cluster, namespace: str, timeout: float) -> None:
    """Wait until every Deployment, StatefulSet and DaemonSet has its replicas ready."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = _ready(cluster, namespace)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise EngineError(
                f"namespace {namespace} not ready after {timeout:.0f} s: {', '.join(waiting)}",
                hint=f"look at `kubectl -n {namespace} get pods` and `kubectl -n {namespace} "
                "get events`; raise stack.ready_timeout if it is only slow",
            )
        time.sleep(0.5)
