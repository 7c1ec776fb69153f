"""Load workers as a Deployment beside the run's stack (``load.workers.kubernetes``).

One Deployment, ``hachaos-load-workers``, in the run's own namespace: ``replicas`` pods of
the worker image, each running ``python3 -m harness.load.worker --master ADDRESS:PORT``,
spread over the nodes (pod anti-affinity, preferred: a one-node cluster still runs them
all). A pod's host name is its name, which is how the master's roster names the worker.

- **Addresses.** The master listens on the address of this host that the pods reach: the
  local end of the route toward the stack's pods (on the local cluster of ``make kube``,
  the gateway of its CNI bridge), never all interfaces. The workers reach the target at
  its Service's cluster IP and port: the local cluster runs no cluster DNS, so a Service
  name would not resolve in the pods.
- **Image.** The default image (harness/engine/worker_image.py) is built on the Docker
  engine, then put into the local cluster's containerd as the stack's images are
  (harness/engine/kubernetes/images.py), and run with ``imagePullPolicy: Never``. Another
  cluster cannot get it that way: it needs ``image:``, pushed where its nodes pull from.
- **Lost is lost.** A Deployment restarts a container that exited; a restarted worker
  would join a run whose schedule it has no share of. The container remembers it ran
  (an ``emptyDir`` survives container restarts) and sleeps instead: the run has already
  counted it lost and stops (exit 3), as on Swarm.
- **Ownership.** Labels ``io.hachaos/load-workers=true`` and ``io.hachaos/project=<namespace>``
  and the run id as an annotation, on the Deployment and its pods. Removal (at the end of
  the load, and ``hachaos cleanup`` after a ``kill -9``) re-checks all three, so nothing
  hachaos did not create is deleted; the stack's targets, drains and replica events skip
  these pods (``pods.hachaos_pod``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.engine.kubernetes import images
from harness.engine.kubernetes.cluster import Cluster, status_of, translated
from harness.engine.kubernetes.namespaces import MANAGED_BY, RUN_ANNOTATION
from harness.engine.kubernetes.pods import LOAD_WORKER_LABEL, check_name, hachaos_pod
from harness.engine.port import WorkerPlacement, WorkerTask
from harness.engine.routes import source_address_toward
from harness.engine.worker_image import ensure_worker_image
from harness.errors import EngineError, ScenarioError, TargetNotFound

NAME = "hachaos-load-workers"
PROJECT_LABEL = "io.hachaos/project"
CONTAINER = "worker"
ONCE_DIR = "/run/hachaos-once"  # an emptyDir: it outlives a container restart in the pod
GONE_TIMEOUT = 60.0  # s for the pods to go once the Deployment is deleted
GRACE_S = 10  # s a worker gets to stop after SIGTERM
# Run the worker once per pod: a restarted container sleeps (the run counted it lost).
ONCE = (
    f'if [ -e {ONCE_DIR}/started ]; then echo "hachaos: this worker ran once; not rejoining"; '
    f'exec sleep 86400; fi; : > {ONCE_DIR}/started; exec "$@"'
)


def selector(namespace: str) -> dict[str, str]:
    return {LOAD_WORKER_LABEL: "true", PROJECT_LABEL: check_name(namespace)}


def _ours(meta: Any, namespace: str, run_id: str) -> bool:
    """Labels and run annotation as this run put them (a look-alike is never touched)."""
    labels = meta.labels or {}
    return (
        labels.get(LOAD_WORKER_LABEL) == "true"
        and labels.get(PROJECT_LABEL) == namespace
        and labels.get(MANAGED_BY) == "hachaos"
        and (meta.annotations or {}).get(RUN_ANNOTATION) == run_id
    )


def deployment(
    namespace: str, run_id: str, placement: WorkerPlacement, image: str, pull: str
) -> dict[str, Any]:
    """The workers' Deployment (a plain document: the API takes it as it is)."""
    if not images.IMAGE_RE.match(image):
        raise ScenarioError(f"not an image name: {image[:80]!r}")
    match = selector(namespace)
    labels = {**match, MANAGED_BY: "hachaos"}
    annotations = {RUN_ANNOTATION: run_id}
    env = [{"name": k, "value": v} for k, v in sorted(placement.env.items())]
    container = {
        "name": CONTAINER,
        "image": image,
        "imagePullPolicy": pull,
        "command": ["/bin/sh", "-c", ONCE, "hachaos-worker", *placement.command],
        "env": env,
        "volumeMounts": [{"name": "once", "mountPath": ONCE_DIR}],
    }
    spread = {
        "weight": 100,
        "podAffinityTerm": {
            "labelSelector": {"matchLabels": match},
            "topologyKey": "kubernetes.io/hostname",
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": NAME,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "replicas": placement.replicas,
            "selector": {"matchLabels": match},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "once", "emptyDir": {}}],
                    "affinity": {
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [spread]
                        }
                    },
                    "terminationGracePeriodSeconds": GRACE_S,
                    # The pause container is PID 1: the worker (or its sleep) is not, so
                    # SIGTERM ends it instead of being ignored for the whole grace period.
                    "shareProcessNamespace": True,
                    "enableServiceLinks": False,
                    "automountServiceAccountToken": False,
                },
            },
        },
    }


def _image(cluster: Cluster, placement: WorkerPlacement) -> tuple[str, str]:
    """(image, pull policy): the default image is built here and loaded into the local
    cluster; a given one is loaded too when Docker has it, else the nodes pull it."""
    if placement.image is None and not cluster.local:
        raise ScenarioError(
            "the default load worker image is built on this host's Docker engine, and only "
            "the local cluster of `make kube` can be given it without a registry",
            hint="push an image that runs this hachaos's `python3 -m harness.load.worker` "
            "(docs/load.md) where the cluster's nodes pull from, and set "
            "`load.workers.kubernetes.image`",
        )
    if placement.image is None:
        tag = ensure_worker_image(placement.bundle, placement.python, placement.digest)
        images.load_local([tag])
        return tag, "Never"
    if cluster.local:
        images.load_local([placement.image])
    return placement.image, "IfNotPresent"


def place(cluster: Cluster, namespace: str, run_id: str, placement: WorkerPlacement) -> None:
    """Create the workers' Deployment (the journal already names it)."""
    image, pull = _image(cluster, placement)
    body = deployment(namespace, run_id, placement, image, pull)
    try:
        with translated(f"create Deployment {namespace}/{NAME}"):
            cluster.apps.create_namespaced_deployment(namespace, body, _request_timeout=30)
    except EngineError as exc:
        if status_of(exc) != 409:
            raise
        raise EngineError(
            f"namespace {namespace} already has a Deployment {NAME}",
            hint="the stack must not define one of that name; `hachaos cleanup` removes one a "
            "dead run left",
        ) from exc


def master_address(cluster: Cluster, namespace: str) -> str:
    """Where the pods reach this host: the local end of the route toward the stack's pods
    (the local cluster's CNI bridge gateway); never loopback."""
    with translated(f"list pods of namespace {namespace}"):
        found = cluster.core.list_namespaced_pod(namespace, _request_timeout=30).items
    for pod in found:
        ip = (pod.status.pod_ip if pod.status else None) or ""
        if not ip or hachaos_pod(pod.metadata.labels) or (pod.spec and pod.spec.host_network):
            continue
        local = source_address_toward(str(ipaddress.ip_address(ip)))
        if not ipaddress.ip_address(local).is_loopback:
            return local
    raise EngineError(
        f"cannot tell which address of this host the pods of namespace {namespace} reach",
        hint="set `load.workers.kubernetes.listen` to an address of this host the pods reach",
    )


def target_url(cluster: Cluster, namespace: str, service: str, port: int, scheme: str) -> str:
    """``scheme://<cluster IP>:<Service port>`` of Service ``service`` (``port`` may name
    the Service's port or its target port, as ``stack.target`` does)."""
    try:
        with translated(f"read Service {namespace}/{service}"):
            svc = cluster.core.read_namespaced_service(check_name(service, "Service"), namespace)
    except TargetNotFound:
        raise ScenarioError(
            f"namespace {namespace} has no Service {service!r} for the load workers to reach",
            hint="`stack.target.service` must name a Service of the manifests",
        ) from None
    ip = svc.spec.cluster_ip or ""
    if ip in ("", "None"):
        raise ScenarioError(
            f"Service {service} is headless: the load workers reach a Service at its cluster "
            "IP (the local cluster runs no DNS)",
            hint="target a Service with a cluster IP (`type: ClusterIP` or `NodePort`)",
        )
    for p in svc.spec.ports or []:
        if port in (p.port, p.target_port):
            addr = ipaddress.ip_address(ip)
            host = f"[{addr}]" if addr.version == 6 else str(addr)
            return f"{scheme}://{host}:{int(p.port)}"
    raise ScenarioError(
        f"Service {service!r} has no port {port}",
        hint="`stack.target.port` must be a port (or target port) of the Service",
    )


def _describe(pod: Any) -> tuple[str, str]:
    """(state, why) of a worker pod: the phase, and what holds it (a waiting reason such
    as ErrImageNeverPull, an unschedulable pod, a worker that exited)."""
    phase = str((pod.status.phase if pod.status else None) or "Unknown")
    if pod.metadata.deletion_timestamp is not None:
        phase = "Terminating"
    why = []
    status = pod.status
    for c in (status.container_statuses if status else None) or []:
        waiting = c.state.waiting if c.state else None
        if waiting is not None and waiting.reason:
            why.append(
                f"{waiting.reason}: {waiting.message}" if waiting.message else waiting.reason
            )
        last = c.last_state.terminated if c.last_state else None
        if c.restart_count and last is not None:
            why.append(f"exited with {last.exit_code} ({last.reason or 'no reason'}), not rejoined")
    for cond in (status.conditions if status else None) or []:
        if cond.type == "PodScheduled" and cond.status == "False":
            why.append(f"not scheduled: {cond.message or cond.reason}")
    return phase, "; ".join(why)


def tasks(cluster: Cluster, namespace: str, run_id: str) -> list[WorkerTask]:
    """The worker pods, oldest first."""
    found = _pods(cluster, namespace, run_id)
    out = []
    for pod in sorted(found, key=lambda p: (str(p.metadata.creation_timestamp), p.metadata.name)):
        state, why = _describe(pod)
        name = str(pod.metadata.name)
        out.append(
            WorkerTask(
                name=name,
                node=str((pod.spec.node_name if pod.spec else None) or ""),
                host=str((pod.spec.hostname if pod.spec else None) or name)[:63],
                state=state,
                error=why,
            )
        )
    return out


def _pods(cluster: Cluster, namespace: str, run_id: str) -> list[Any]:
    match = ",".join(f"{k}={v}" for k, v in selector(namespace).items())
    with translated(f"list load worker pods of namespace {namespace}"):
        found = cluster.core.list_namespaced_pod(
            namespace, label_selector=match, _request_timeout=30
        ).items
    return [p for p in found if _ours(p.metadata, namespace, run_id)]


def remove(
    cluster: Cluster,
    namespace: str,
    run_id: str,
    *,
    timeout: float = GONE_TIMEOUT,
    clock: Clock = REAL_CLOCK,
) -> list[str]:
    """Delete this run's worker Deployment and wait (bounded) until its pods are gone (the
    namespace may be kept after the run); returns what it did."""
    match = ",".join(f"{k}={v}" for k, v in selector(namespace).items())
    with translated(f"list Deployments of namespace {namespace}"):
        found = cluster.apps.list_namespaced_deployment(
            namespace, label_selector=match, _request_timeout=30
        ).items
    done = []
    for dep in found:
        if not _ours(dep.metadata, namespace, run_id):
            continue
        name = str(dep.metadata.name)
        try:
            with translated(f"delete Deployment {namespace}/{name}"):
                cluster.apps.delete_namespaced_deployment(
                    name,
                    namespace,
                    body=k8s.V1DeleteOptions(propagation_policy="Background"),
                    _request_timeout=30,
                )
        except TargetNotFound:
            continue
        done.append(f"removed load worker Deployment {namespace}/{name}")
    if not done:
        return done
    gone: Callable[[], bool] = lambda: not _pods(cluster, namespace, run_id)  # noqa: E731
    if not poll_until(gone, timeout, 0.5, clock):
        left = len(_pods(cluster, namespace, run_id))
        done.append(f"{left} worker pod(s) still terminating after {timeout:.0f} s")
    return done
