"""The pods of a run's namespace as fault targets: the container calls of the faults
(harness/faults/ports.py ``Containers``), made with the Kubernetes API.

A target id is ``<namespace>/<pod>/<container>``, so every call knows where it acts;
only pods of the run's namespace are ever resolved, and never a pod of hachaos's own (a
helper, a load worker: :func:`hachaos_pod`).
A pod is numbered within its workload: a StatefulSet's ordinal + 1, else by creation
(oldest first), as Swarm numbers its tasks by slot.

A killed, stopped or restarted pod is not started again: its controller replaces it with
a new pod, which the fault's revert waits for (:func:`wait_replaced`, the task-replacement
capability) and records.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from kubernetes import client as k8s

from harness.engine.containers import Target
from harness.engine.kubernetes import execs
from harness.engine.kubernetes.cluster import Cluster, for_namespace, translated
from harness.errors import EngineError, FaultError, TargetNotFound

HELPER_LABEL = "io.hachaos/helper"
LOAD_WORKER_LABEL = "io.hachaos/load-workers"  # the load workers' Deployment and pods
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ID_RE = re.compile(r"^[a-z0-9][-a-z0-9]{0,62}/[a-z0-9][-.a-z0-9]{0,252}/[a-z0-9][-a-z0-9]{0,62}$")
SERVICE_PREFIX = "service:"  # a Service as a peer (its cluster address): never a target


def split_id(target_id: str) -> tuple[str, str, str]:
    """(namespace, pod, container) of a target id; refuses anything else."""
    if not ID_RE.match(target_id):
        raise FaultError(f"not a Kubernetes target id: {target_id[:80]!r}")
    ns, pod, container = target_id.split("/")
    return ns, pod, container


def hachaos_pod(labels: Mapping[str, str] | None) -> bool:
    """Whether a pod with these labels is hachaos's own (a helper, a load worker): never a
    target, never part of the stack a fault or a drain acts on."""
    found = labels or {}
    return HELPER_LABEL in found or LOAD_WORKER_LABEL in found


def _cluster(namespace: str) -> Cluster:
    return for_namespace(namespace)


def _owner_workload(cluster: Cluster, pod: k8s.V1Pod) -> tuple[str, str] | None:
    """(kind, name) of the workload that owns a pod (a Deployment through its ReplicaSet)."""
    for ref in pod.metadata.owner_references or []:
        if not ref.controller:
            continue
        if ref.kind == "ReplicaSet":
            with translated(f"read replicaset {ref.name}"):
                rs = cluster.apps.read_namespaced_replica_set(ref.name, pod.metadata.namespace)
            for up in rs.metadata.owner_references or []:
                if up.controller and up.kind == "Deployment":
                    return "Deployment", str(up.name)
            return "ReplicaSet", str(ref.name)
        return str(ref.kind), str(ref.name)
    return None


def _ordinal(pod: k8s.V1Pod) -> int | None:
    tail = str(pod.metadata.name).rsplit("-", 1)[-1]
    return int(tail) + 1 if tail.isdigit() else None


def workload_pods(
    cluster: Cluster, namespace: str, service: str, *, terminating: bool = False
) -> list[k8s.V1Pod]:
    """The live pods of the workload ``service`` in numbered order (those being deleted
    too when ``terminating``)."""
    with translated(f"list pods of namespace {namespace}"):
        pods = cluster.core.list_namespaced_pod(namespace, _request_timeout=30).items
    mine = []
    for pod in pods:
        if hachaos_pod(pod.metadata.labels):
            continue
        if pod.metadata.deletion_timestamp is not None and not terminating:
            continue
        if pod.status.phase in ("Succeeded", "Failed"):
            continue
        owner = _owner_workload(cluster, pod)
        name = owner[1] if owner else pod.metadata.name
        if name == service:
            mine.append(pod)
    return sorted(
        mine,
        key=lambda p: (
            _ordinal(p) if _ordinal(p) is not None else 0,
            p.metadata.creation_timestamp or datetime.min,
            p.metadata.name,
        ),
    )


def _container_name(pod: k8s.V1Pod) -> str:
    return str(pod.spec.containers[0].name)


def _target(namespace: str, service: str, number: int, pod: k8s.V1Pod) -> Target:
    controlled = any(r.controller for r in pod.metadata.owner_references or [])
    return Target(
        id=f"{namespace}/{pod.metadata.name}/{_container_name(pod)}",
        name=str(pod.metadata.name),
        service=service,
        number=number,
        # The controller replaces a deleted pod (as Swarm a task); a bare pod is not replaced.
        task=f"{namespace}/{pod.metadata.uid}" if controlled else "",
    )


def resolve(project: str, service: str, replicas: tuple[int, ...] = ()) -> list[Target]:
    """The pods of workload ``service`` in namespace ``project`` with these numbers."""
    cluster = _cluster(project)
    pods = workload_pods(cluster, project, service)
    targets = []
    for i, pod in enumerate(pods, start=1):
        number = _ordinal(pod) or i
        targets.append(_target(project, service, number, pod))
    if replicas:
        targets = [t for t in targets if t.number in set(replicas)]
    if not targets:
        which = f"replicas {list(replicas)} of " if replicas else ""
        raise FaultError(
            f"no pod matched {which}workload {service!r} in namespace {project!r}",
            hint="name a Deployment or StatefulSet of the manifests; replicas count from 1",
        )
    return targets


def project_targets(project: str) -> list[Target]:
    """Every pod of the namespace, and each Service as a peer (``service:<ns>/<name>``)."""
    cluster = _cluster(project)
    with translated(f"list pods of namespace {project}"):
        pods = cluster.core.list_namespaced_pod(project, _request_timeout=30).items
    out: list[Target] = []
    labelled: list[tuple[Target, dict[str, str]]] = []
    for pod in pods:
        if hachaos_pod(pod.metadata.labels) or pod.metadata.deletion_timestamp:
            continue
        owner = _owner_workload(cluster, pod)
        t = _target(project, owner[1] if owner else pod.metadata.name, 0, pod)
        out.append(t)
        labelled.append((t, dict(pod.metadata.labels or {})))
    with translated(f"list services of namespace {project}"):
        services = cluster.core.list_namespaced_service(project, _request_timeout=30).items
    for svc in services:
        selector = svc.spec.selector or {}
        # A Service is a peer of the workload it selects: a client in a pod talks to its
        # cluster address, which a partition must cut as well as the pods' own addresses.
        for t, labels in labelled:
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                sid = f"{SERVICE_PREFIX}{project}/{svc.metadata.name}"
                out.append(Target(sid, str(svc.metadata.name), t.service, 0))
                break
    return out


def read_pod(target_id: str) -> k8s.V1Pod:
    """The pod of a target (TargetNotFound when it is gone)."""
    ns, pod, _ = split_id(target_id)
    with translated(f"read pod {ns}/{pod}"):
        return _cluster(ns).core.read_namespaced_pod(pod, ns, _request_timeout=30)


def ready(container_id: str) -> bool:
    """Whether the target's pod is Ready (its readiness probes pass)."""
    try:
        return _ready_since(read_pod(container_id))
    except TargetNotFound:
        return False


def _container_status(pod: k8s.V1Pod, container: str) -> Any:
    for cs in pod.status.container_statuses or []:
        if cs.name == container:
            return cs
    return None


def inspect(container_id: str) -> dict[str, Any]:
    """The pod as a plain dict (the API's own field names)."""
    pod = read_pod(container_id)
    return dict(k8s.ApiClient().sanitize_for_serialization(pod))


def state(container_id: str) -> dict[str, Any]:
    """A Docker-like ``State`` of the target's container: Status, StartedAt, Running."""
    _, _, container = split_id(container_id)
    pod = read_pod(container_id)
    cs = _container_status(pod, container)
    started = ""
    if cs is not None and cs.state and cs.state.running and cs.state.running.started_at:
        started = cs.state.running.started_at.isoformat()
    return {
        "Status": status(container_id, pod=pod),
        "StartedAt": started,
        "Running": started != "",
        "Pid": 0,
    }


def status(container_id: str, *, pod: k8s.V1Pod | None = None) -> str:
    """``running`` | ``created`` (not ready to run yet) | ``exited`` | ``dead`` (deleted)."""
    _, _, container = split_id(container_id)
    try:
        pod = pod or read_pod(container_id)
    except TargetNotFound:
        return "dead"  # deleted: the controller replaces it with another pod
    if pod.metadata.deletion_timestamp is not None:
        return "dead"
    cs = _container_status(pod, container)
    if cs is None or cs.state is None:
        return "created"
    if cs.state.running:
        return "running"
    if cs.state.terminated:
        return "exited"
    return "exited" if (cs.restart_count or 0) > 0 else "created"


def wait_status(
    container_id: str,
    wanted: set[str],
    *,
    timeout: float,
    interval: float = 0.2,
    status_of: Callable[[str], str] | None = None,
) -> str:
    """Poll until the status is one of ``wanted`` (or the time is up); returns the last.
    ``status_of``: how to read it (default :func:`status`)."""
    read = status_of or status
    deadline = time.monotonic() + timeout
    while True:
        got = read(container_id)
        if got in wanted or time.monotonic() >= deadline:
            return got
        time.sleep(max(interval, 0.1))


def delete_pod(container_id: str, grace: float) -> None:
    """Delete the target's pod with this grace period (0: SIGKILL at once)."""
    ns, pod, _ = split_id(container_id)
    body = k8s.V1DeleteOptions(grace_period_seconds=int(grace))
    with translated(f"delete pod {ns}/{pod}"):
        _cluster(ns).core.delete_namespaced_pod(pod, ns, body=body, _request_timeout=30)


def kill(container_id: str, signal: str = "SIGKILL") -> None:
    """SIGKILL: delete the pod with grace 0 (Kubernetes' pod kill). Another signal goes to
    the container's main process (``kill -<SIG> 1`` inside it)."""
    if signal in ("SIGKILL", "KILL", "9"):
        delete_pod(container_id, 0)
        return
    sig = signal.removeprefix("SIG")
    if not re.fullmatch(r"[A-Z0-9]{1,10}", sig):
        raise FaultError(f"not a signal name: {signal!r}")
    code, out = exec_in(container_id, f"kill -{sig} 1")
    if code != 0:
        raise FaultError(f"kill -{sig} in {container_id}: {out.strip()[-200:]}")


def stop(container_id: str, grace: float) -> None:
    """Delete the pod with a grace period (SIGTERM, then SIGKILL): the controller replaces it."""
    delete_pod(container_id, grace)


def restart(container_id: str, grace: float) -> None:
    """As :func:`stop`: a pod is never restarted in place; its controller makes a new one."""
    delete_pod(container_id, grace)


def start(container_id: str) -> None:
    """A deleted pod cannot be started again; a live one needs nothing."""
    if status(container_id) == "dead":
        raise FaultError(
            f"{container_id} was deleted and is not controlled by a workload, so nothing "
            "brings it back",
            hint="run the pod under a Deployment or StatefulSet",
        )


def exists(container_id_or_name: str) -> bool:
    """Whether the target's pod exists and is not being deleted."""
    return status(container_id_or_name) != "dead"


def addresses(container_id: str) -> dict[str, str]:
    """``{"pods": <pod IP>}``; a ``service:`` peer gives its cluster IP on the same key."""
    if container_id.startswith(SERVICE_PREFIX):
        ns, _, name = container_id[len(SERVICE_PREFIX) :].partition("/")
        with translated(f"read service {ns}/{name}"):
            svc = _cluster(ns).core.read_namespaced_service(name, ns)
        ip = svc.spec.cluster_ip
        return {"pods": ip} if ip and ip != "None" else {}
    pod = read_pod(container_id)
    return {"pods": pod.status.pod_ip} if pod.status.pod_ip else {}


def shared_namespaces(container_id: str) -> dict[str, str]:
    """The host namespaces the pod shares (hostNetwork, hostPID): faults refuse those."""
    spec = read_pod(container_id).spec
    found = {}
    if spec.host_network:
        found["network"] = "host"
    if spec.host_pid:
        found["pid"] = "host"
    return found


def exec_in(container_id: str, script: str, *, detach: bool = False) -> tuple[int, str]:
    """Run ``sh -c script`` in the target's container (the exec API). ``detach``: return
    once it started; the exec's stream is held by a thread until the script ends."""
    ns, pod, container = split_id(container_id)
    command = ["sh", "-c", script]
    if detach:
        # Not `sh -c '... &'`: a backgrounded shell would be orphaned to the container's
        # init, which in most images (no tini) never reaps it, so every process it
        # started would stay a zombie after the fault. The exec's own process is reaped
        # by the runtime when it ends.
        execs.start(_cluster(ns), ns, pod, container, command)
        return 0, ""
    return execs.run(_cluster(ns), ns, pod, container, command, timeout=30.0)


def node_of(container_id: str) -> str:
    """The node the target's pod runs on."""
    node = read_pod(container_id).spec.node_name
    if not node:
        raise FaultError(f"{container_id} is not scheduled on a node yet")
    return str(node)


def container_uid(container_id: str) -> str:
    """The runtime's id of the target's container (``containerd://<id>`` without the scheme)."""
    _, _, container = split_id(container_id)
    cs = _container_status(read_pod(container_id), container)
    raw = str(getattr(cs, "container_id", "") or "")
    cid = raw.split("://", 1)[-1]
    if not re.fullmatch(r"[0-9a-f]{12,128}", cid):
        raise FaultError(f"{container_id} has no running container yet (id {raw!r})")
    return cid


def _unsupported(what: str) -> FaultError:
    return FaultError(
        f"{what} is not available on Kubernetes",
        hint="docs/engines.md lists the faults each engine runs",
    )


def host_pid(container_id: str) -> int:
    raise _unsupported("the host pid of a container (crash)")


def mounts(container_id: str) -> dict[str, tuple[str, bool]]:
    raise _unsupported("the mounts of a container (disk)")


def pause(container_id: str) -> None:
    raise _unsupported("pause through the container API (it runs through a helper pod)")


unpause = pause


def remove(container_id: str) -> None:
    delete_pod(container_id, 0)


def park(container_id: str, parked_name: str) -> str:
    raise _unsupported("parking a container (the compose `scale` fault; use kube scale)")


def unpark(parked_name: str) -> str:
    raise _unsupported("parking a container")


def find_by_name(name: str) -> str | None:
    return None


def cpu_limits(container_id: str) -> dict[str, int]:
    raise _unsupported("CPU limits through the container API (cpu runs through a helper pod)")


def update_resources(container_id: str, resources: dict[str, int]) -> None:
    raise _unsupported("CPU limits through the container API")


# ------------------------------------------------------------------ task replacement
def is_ready(pod: k8s.V1Pod) -> bool:
    """Whether the pod's Ready condition is True."""
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


_ready_since = is_ready


def first_container_id(pod: k8s.V1Pod) -> str:
    """The runtime id of the pod's first container ("" before it runs)."""
    cs = (pod.status.container_statuses or [None])[0]
    return str(getattr(cs, "container_id", "") or "").split("://", 1)[-1]


def ready_wall(pod: k8s.V1Pod) -> float:
    """When the pod became Ready (the API's time: whole seconds)."""
    for c in pod.status.conditions or []:
        if c.type == "Ready" and c.status == "True" and c.last_transition_time:
            return float(c.last_transition_time.timestamp())
    return 0.0


def task_node(task_id: str) -> str:
    """``<namespace>/<node>`` of the pod whose task id (``<namespace>/<uid>``) this is."""
    ns, _, uid = task_id.partition("/")
    cluster = _cluster(ns)
    with translated(f"list pods of namespace {ns}"):
        found = cluster.core.list_namespaced_pod(ns, _request_timeout=30).items
    for p in found:
        if str(p.metadata.uid) == uid and p.spec.node_name:
            return f"{ns}/{p.spec.node_name}"
    raise TargetNotFound(f"no pod {uid} in namespace {ns}")


def desired(cluster: Cluster, namespace: str, service: str) -> int | None:
    """spec.replicas of the Deployment/StatefulSet ``service`` (None when it has none)."""
    for read in (
        cluster.apps.read_namespaced_deployment,
        cluster.apps.read_namespaced_stateful_set,
    ):
        try:
            with translated(f"read workload {namespace}/{service}"):
                return int(read(service, namespace).spec.replicas or 0)
        except TargetNotFound:
            continue
    return None


def wait_replaced(
    stack: str, targets: Iterable[Mapping[str, Any]], timeout: float
) -> list[dict[str, Any]]:
    """Wait until each deleted target pod has a new, Ready pod in its workload and the
    workload its desired count; returns ``{service, slot, old_task, task, name, container,
    running_wall}`` per target (``running_wall``: when this wait saw the new pod Ready).

    Raises TargetNotFound when the workload is gone (the namespace was removed).
    """
    cluster = _cluster(stack)
    wanted = [dict(t) for t in targets]
    deadline = time.monotonic() + timeout
    seen_ready: dict[str, float] = {}
    while True:
        found: list[dict[str, Any]] = []
        pending: list[str] = []
        for service in sorted({str(t["service"]) for t in wanted}):
            want = desired(cluster, stack, service)
            if want is None:
                raise TargetNotFound(f"namespace {stack} has no workload {service} any more")
            pods = workload_pods(cluster, stack, service)
            old = {str(t.get("task", "")).rpartition("/")[2] for t in wanted}
            ready = [p for p in pods if _ready_since(p)]
            for p in ready:
                seen_ready.setdefault(str(p.metadata.uid), time.time())
            new = sorted(
                (p for p in ready if str(p.metadata.uid) not in old),
                key=lambda p: p.metadata.creation_timestamp or datetime.min,
                reverse=True,
            )
            mine = [t for t in wanted if str(t["service"]) == service]
            if len(ready) >= want and len(new) >= len(mine):
                for t, p in zip(mine, new, strict=False):
                    cid = first_container_id(p)
                    found.append(
                        {
                            "service": service,
                            "slot": int(t["number"]),
                            "old_task": str(t["name"]),
                            "task": str(p.metadata.name),
                            "name": str(p.metadata.name),
                            "container": cid[:12],
                            "running_wall": seen_ready[str(p.metadata.uid)],
                        }
                    )
            else:
                pending += [f"{service}.{t['number']}" for t in mine]
        if not pending:
            return found
        if time.monotonic() > deadline:
            raise FaultError(
                f"Kubernetes did not replace pod(s) {', '.join(pending)} within {timeout:.0f} s",
                hint=f"look at `kubectl -n {stack} get pods,events` for the pods' errors",
            )
        time.sleep(0.2)


def check_name(name: str, what: str = "namespace") -> str:
    """A DNS-1123 label (namespaces, pod names): refused before it reaches the API."""
    if len(name) > 63 or not NAME_RE.match(name):
        raise EngineError(
            f"{what} {name!r} is not a valid Kubernetes name (lowercase letters, digits and "
            "'-', at most 63)",
            hint="pick a project name of that form (--project / stack.project)",
        )
    return name
