"""The platform calls of the faults on Kubernetes: Deployments and StatefulSets as services,
pods as tasks, the node as a node, and the load workers a dead run left
(harness/engine/capabilities.py).

The service faults were written against Swarm's service document; a workload is shown to
them in that shape, and a change to it becomes the Kubernetes change that means the same:

=================================  ==============================================================
``Spec.Mode.Replicated.Replicas``  ``spec.replicas`` (scale)
``TaskTemplate.ForceUpdate``       a counter in the pod template's annotations: a new template,
                                   so the workload rolls every pod (``kubectl rollout restart``)
``ContainerSpec.Image`` / ``Env``  the first container's image and environment
rollback                           the template as it was before the fault's change
``UpdateStatus.State``             ``updating`` until the rollout is complete, ``paused`` when
                                   it exceeded its progress deadline, else ``completed``
=================================  ==============================================================

A node is drained the way ``kubectl drain`` does, but only for the run's own pods: it is
cordoned, and the run's pods on it are evicted through the eviction API, which honours
their PodDisruptionBudgets (an eviction a budget refuses is retried, not forced).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from harness.engine.kubernetes import pods, workers
from harness.engine.kubernetes.cluster import Cluster, current, for_namespace, translated
from harness.errors import EngineError, FaultError, TargetNotFound

FORCE_ANNOTATION = "io.hachaos/force-update"
KINDS = ("Deployment", "StatefulSet")
EVICT_RETRY = 1.0  # s between two evictions a disruption budget refused

_previous: dict[str, dict[str, Any]] = {}  # sid -> pod template before this process changed it
_lock = threading.Lock()


# ------------------------------------------------------------------ workloads as services
def _split(sid: str) -> tuple[str, str, str]:
    ns, kind, name = sid.split("/")
    if kind not in KINDS:
        raise FaultError(f"not a workload id: {sid!r}")
    return ns, kind, name


def _read(cluster: Cluster, kind: str, name: str, ns: str) -> Any:
    read = (
        cluster.apps.read_namespaced_deployment
        if kind == "Deployment"
        else cluster.apps.read_namespaced_stateful_set
    )
    with translated(f"read {kind} {ns}/{name}"):
        return read(name, ns, _request_timeout=30)


def _patch(cluster: Cluster, kind: str, name: str, ns: str, body: dict[str, Any]) -> None:
    patch = (
        cluster.apps.patch_namespaced_deployment
        if kind == "Deployment"
        else cluster.apps.patch_namespaced_stateful_set
    )
    with translated(f"update {kind} {ns}/{name}"):
        patch(name, ns, body, _request_timeout=30)


def service_id(stack: str, service: str) -> str:
    """``<namespace>/<Kind>/<name>`` of the workload ``service``."""
    cluster = for_namespace(stack)
    for kind in KINDS:
        try:
            _read(cluster, kind, service, stack)
        except TargetNotFound:
            continue
        return f"{stack}/{kind}/{service}"
    raise FaultError(
        f"namespace {stack!r} has no Deployment or StatefulSet {service!r}",
        hint="name a Deployment or StatefulSet of the manifests",
    )


def _state(obj: Any) -> str:
    st, spec = obj.status, obj.spec
    want = int(spec.replicas if spec.replicas is not None else 1)
    for cond in st.conditions or []:
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            return "paused"
    done = (
        (st.observed_generation or 0) >= (obj.metadata.generation or 0)
        and int(st.updated_replicas or 0) >= want
        and int(st.ready_replicas or 0) >= want
        and int(st.replicas or 0) <= want
    )
    return "completed" if done else "updating"


def inspect_service(sid: str) -> dict[str, Any]:
    """The workload in the shape of a Swarm service document (see the module's table)."""
    ns, kind, name = _split(sid)
    obj = _read(for_namespace(ns), kind, name, ns)
    template = obj.spec.template
    c = template.spec.containers[0]
    annotations = template.metadata.annotations or {}
    return {
        "ID": sid,
        "Spec": {
            "Name": name,
            "Mode": {"Replicated": {"Replicas": int(obj.spec.replicas or 0)}},
            "TaskTemplate": {
                "ForceUpdate": int(annotations.get(FORCE_ANNOTATION, "0") or 0),
                "ContainerSpec": {
                    "Image": c.image,
                    "Env": [
                        f"{e.name}={e.value or ''}" for e in c.env or [] if e.value_from is None
                    ],
                },
            },
        },
        "UpdateStatus": {"State": _state(obj)},
    }


def update_service(sid: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Apply what ``mutate`` changed in the service document to the workload."""
    ns, kind, name = _split(sid)
    cluster = for_namespace(ns)
    before = inspect_service(sid)
    after = copy.deepcopy(before)
    mutate(after["Spec"])
    spec_b, spec_a = before["Spec"], after["Spec"]
    body: dict[str, Any] = {}
    count = spec_a["Mode"]["Replicated"]["Replicas"]
    if count != spec_b["Mode"]["Replicated"]["Replicas"]:
        body.setdefault("spec", {})["replicas"] = int(count)
    tb, ta = spec_b["TaskTemplate"], spec_a["TaskTemplate"]
    template: dict[str, Any] = {}
    if ta["ForceUpdate"] != tb["ForceUpdate"]:
        template["metadata"] = {"annotations": {FORCE_ANNOTATION: str(int(ta["ForceUpdate"]))}}
    cb, ca = tb["ContainerSpec"], ta["ContainerSpec"]
    if ca != cb:
        obj = _read(cluster, kind, name, ns)
        cname = obj.spec.template.spec.containers[0].name
        container: dict[str, Any] = {"name": cname}
        if ca["Image"] != cb["Image"]:
            container["image"] = ca["Image"]
        if ca["Env"] != cb["Env"]:
            container["env"] = [
                {"name": k, "value": v} for k, _, v in (e.partition("=") for e in ca["Env"])
            ]
        template["spec"] = {"containers": [container]}
    if template:
        obj = _read(cluster, kind, name, ns)
        with _lock:
            _previous.setdefault(sid, k8s.ApiClient().sanitize_for_serialization(obj.spec.template))
        body.setdefault("spec", {})["template"] = template
    if body:
        _patch(cluster, kind, name, ns, body)


def rollback_service(sid: str) -> None:
    """Put back the pod template this process saw before its first change."""
    ns, kind, name = _split(sid)
    with _lock:
        template = _previous.pop(sid, None)
    if template is None:
        raise FaultError(f"nothing to roll back for {sid}: its template was not changed here")
    cluster = for_namespace(ns)
    with translated(f"roll back {kind} {ns}/{name}"):
        replace = (
            cluster.apps.patch_namespaced_deployment
            if kind == "Deployment"
            else cluster.apps.patch_namespaced_stateful_set
        )
        # A JSON merge of the whole template: the fault's additions are removed too.
        replace(name, ns, [{"op": "replace", "path": "/spec/template", "value": template}])


def update_state(sid: str) -> str:
    return str(inspect_service(sid)["UpdateStatus"]["State"])


def replicated_count(doc: Mapping[str, Any]) -> int:
    return int(doc["Spec"]["Mode"]["Replicated"]["Replicas"])


def running_task_ids(stack: str, service: str) -> list[str]:
    """The names of the workload's Ready pods."""
    cluster = for_namespace(stack)
    return [
        str(p.metadata.name)
        for p in pods.workload_pods(cluster, stack, service)
        if pods.is_ready(p)
    ]


def new_running_tasks(stack: str, service: str, before: Iterable[str]) -> list[dict[str, Any]]:
    """The workload's Ready pods that were not among ``before``, as report entries."""
    old = set(before)
    cluster = for_namespace(stack)
    out = []
    for i, p in enumerate(pods.workload_pods(cluster, stack, service), start=1):
        if p.metadata.name in old or not pods.is_ready(p):
            continue
        out.append(
            {
                "service": service,
                "slot": i,
                "task": str(p.metadata.name),
                "name": str(p.metadata.name),
                "container": pods.first_container_id(p)[:12],
                "running_wall": pods.ready_wall(p),
            }
        )
    return out


def wait_running(
    stack: str,
    service: str,
    count: int,
    timeout: float,
    *,
    settled: Callable[[], bool] | None = None,
) -> None:
    """Wait until the workload has exactly ``count`` pods, all Ready, and ``settled()``
    holds. Pods on their way out (deleted, in their grace period) no longer count: they
    left the Services' endpoints when they were deleted."""
    cluster = for_namespace(stack)
    deadline = time.monotonic() + timeout
    while True:
        live = pods.workload_pods(cluster, stack, service)
        ready = [p for p in live if pods.is_ready(p)]
        if len(ready) == count and len(live) == count and (settled is None or settled()):
            return
        if time.monotonic() > deadline:
            raise FaultError(
                f"{service} has {len(ready)} ready pods of {count} after {timeout:.0f} s",
                hint=f"look at `kubectl -n {stack} get pods,events`",
            )
        time.sleep(0.25)


# ------------------------------------------------------------------ pods replaced
wait_replaced = pods.wait_replaced


# ------------------------------------------------------------------ nodes
def require_nodes(fault_type: str, *, single_node_ok: bool = False) -> None:
    """node-drain needs a second node to move the pods to, unless the scenario said that
    emptying the only one is what it wants (``allow_single_node``); node-loss has no
    equivalent here."""
    if fault_type != "node-drain":
        raise FaultError(
            f"`{fault_type}` is not available on Kubernetes",
            hint="node-drain is; docs/engines.md lists the faults each engine runs",
        )
    if single_node_ok:
        return
    cluster = current()
    with translated("list nodes"):
        count = len(cluster.core.list_node(_request_timeout=30).items)
    if count < 2:
        raise FaultError(
            f"node-drain on a cluster of {count} node: the run's pods would have nowhere to go",
            hint="add `allow_single_node: true` to the fault to drain the only node anyway "
            "(it empties it of the run's pods until the revert), or use a bigger cluster",
        )


def _node_cluster(node: str) -> tuple[Cluster, str]:
    ns, _, name = node.partition("/")
    return for_namespace(ns), name


task_node = pods.task_node


def node_spec(node: str) -> dict[str, Any]:
    """``{"Spec": {"Availability": "active" | "drain"}}``: cordoned is drain."""
    cluster, name = _node_cluster(node)
    with translated(f"read node {name}"):
        n = cluster.core.read_node(name, _request_timeout=30)
    return {"ID": node, "Spec": {"Availability": "drain" if n.spec.unschedulable else "active"}}


def set_availability(node: str, availability: str) -> None:
    """drain: cordon, then evict the run's pods on the node; active: uncordon."""
    cluster, name = _node_cluster(node)
    ns = node.split("/", 1)[0]
    with translated(f"cordon node {name}"):
        cluster.core.patch_node(name, {"spec": {"unschedulable": availability == "drain"}})
    if availability == "drain":
        evict_namespace_pods(cluster, ns, name)


def evict_namespace_pods(
    cluster: Cluster, namespace: str, node: str, timeout: float = 20.0
) -> None:
    """Evict the namespace's pods on ``node`` (never a helper or a load worker); an eviction that a
    PodDisruptionBudget refuses (429) is retried until ``timeout``, then left: the budget
    protects it, which is what a drain under a budget shows."""
    deadline = time.monotonic() + timeout
    while True:
        with translated(f"list pods of {namespace} on {node}"):
            found = cluster.core.list_namespaced_pod(
                namespace, field_selector=f"spec.nodeName={node}", _request_timeout=30
            ).items
        left = [
            p
            for p in found
            if not pods.hachaos_pod(p.metadata.labels)
            and p.metadata.deletion_timestamp is None
            and p.status.phase not in ("Succeeded", "Failed")
        ]
        refused = 0
        for p in left:
            body = k8s.V1Eviction(
                metadata=k8s.V1ObjectMeta(name=p.metadata.name, namespace=namespace)
            )
            try:
                cluster.core.create_namespaced_pod_eviction(p.metadata.name, namespace, body)
            except ApiException as exc:
                if exc.status == 429:
                    refused += 1
                elif exc.status != 404:
                    raise EngineError(f"evicting {p.metadata.name}: {exc.reason}") from exc
        if refused == 0 or time.monotonic() > deadline:
            return
        time.sleep(EVICT_RETRY)


def engine_pid(node_id: str) -> int:
    raise FaultError("node-loss is not available on Kubernetes")


def freeze_engine(pid: int, *, frozen: bool) -> None:
    raise FaultError("node-loss is not available on Kubernetes")


def engine_frozen(pid: int) -> bool:
    return False


# ------------------------------------------------------------------ load workers
def remove_left_workers(stack: str, run_id: str) -> list[str]:
    """The load worker Deployment a dead run placed in namespace ``stack`` (``hachaos
    cleanup``), on the cluster of ``--kubeconfig`` or the local one."""
    namespace = pods.check_name(stack)
    return workers.remove(for_namespace(namespace), namespace, run_id)
