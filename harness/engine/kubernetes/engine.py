"""The Kubernetes adapter of the engine port: one run = one namespace of its own.

``deploy`` creates the namespace (labelled as hachaos's, the run id as an annotation),
puts local images into the project's own cluster, creates the manifests' objects in it
and waits until every workload is ready. ``teardown`` deletes the namespace and waits
until it is gone. Load goes to a NodePort Service on 127.0.0.1 (the local cluster's
kube-proxy serves NodePorts on loopback only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client as k8s

from harness.engine.kubernetes import apply, images, manifests, namespaces, pods, workers
from harness.engine.kubernetes.cluster import Cluster, bind, connect, translated
from harness.engine.kubernetes.observer import ReplicaObserver
from harness.engine.port import EmitFn, WorkerPlacement, WorkerTask
from harness.errors import EngineError, ScenarioError

ENGINE = "kubernetes"
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")  # workloads with spec.replicas


@dataclass
class KubernetesEngine:
    """One stack (its manifests) in one run-scoped namespace of one cluster."""

    manifests_path: Path
    namespace: str
    run_id: str
    kubeconfig: str | None = None
    # Capacity experiments (docs/capacity.md): a variant's overlay replaces the manifests
    # (a kustomization that builds on the base), a scaling curve sets a workload's replicas.
    scale: dict[str, int] = field(default_factory=dict)
    _observer: ReplicaObserver | None = field(default=None, repr=False)
    _cluster: Cluster | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        pods.check_name(self.namespace)
        # Reads the kubeconfig only (no call): the fault preflight then asks this cluster.
        if self._cluster is None:
            self._cluster = connect(self.kubeconfig)
        bind(self.namespace, self._cluster)

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = connect(self.kubeconfig)
            bind(self.namespace, self._cluster)
        return self._cluster

    # ------------------------------------------------------------------ the port
    @property
    def kind(self) -> str:
        return ENGINE

    @property
    def project(self) -> str:
        return self.namespace

    @property
    def file(self) -> Path:
        return self.manifests_path

    def with_env(self, **env: str) -> KubernetesEngine:
        """The same stack: manifests take no interpolation variables (the port is a NodePort)."""
        return self

    def with_overrides(self, files: Sequence[Path]) -> KubernetesEngine:
        """The same stack from the last overlay: a manifests folder (a kustomization that
        builds on the base) replaces the base's, as `kubectl apply -k overlay` would."""
        if not files:
            return self
        return dataclasses.replace(self, manifests_path=Path(files[-1]), _cluster=self._cluster)

    def with_replicas(self, service: str, count: int) -> KubernetesEngine:
        """The same stack with workload ``service`` at ``count`` replicas (as `kubectl scale`)."""
        return dataclasses.replace(self, scale={**self.scale, service: count})

    def existing(self) -> str | None:
        if namespaces.read(self.cluster, self.namespace) is None:
            return None
        return namespaces.describe(self.cluster, self.namespace)

    def objects(self) -> list[dict[str, Any]]:
        objects = manifests.load(self.manifests_path, kubectl())
        for obj in objects:
            count = self.scale.get(obj["metadata"]["name"])
            if count is not None and obj["kind"] in SCALABLE:
                obj.setdefault("spec", {})["replicas"] = count
        return objects

    def deploy(self, *, ready_timeout: float) -> None:
        objects = self.objects()
        cluster = self.cluster
        adopt = namespaces.read(cluster, self.namespace) is not None
        if not adopt:
            namespaces.create(cluster, self.namespace, self.run_id)
        if cluster.local:
            images.load_local(manifests.images(objects))
        apply.create_all(cluster, self.namespace, objects, adopt=adopt)
        apply.wait_ready(cluster, self.namespace, ready_timeout)

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        """The NodePort of Service ``service`` for ``port``, on 127.0.0.1."""
        with translated(f"read service {self.namespace}/{service}"):
            svc = self.cluster.core.read_namespaced_service(service, self.namespace)
        for p in svc.spec.ports or []:
            if port in (p.port, p.target_port):
                if not p.node_port:
                    break
                if not self.cluster.local:
                    raise EngineError(
                        f"Service {service} publishes port {port} as NodePort {p.node_port} "
                        "on the cluster's nodes, which hachaos does not send load to",
                        hint="forward it to this host (`kubectl port-forward svc/"
                        f"{service} 8080:{port}`) and set `stack.target` to "
                        "http://127.0.0.1:8080",
                    )
                return "127.0.0.1", int(p.node_port)
        raise ScenarioError(
            f"Service {service!r} has no NodePort for port {port}",
            hint="make the target Service `type: NodePort` (k8s/web-ha/lb.yaml)",
        )

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Any]:
        return pods.resolve(self.namespace, service, replicas)

    # ------------------------------------------------------------------ load workers
    def worker_master_address(self) -> str:
        return workers.master_address(self.cluster, self.namespace)

    def worker_target(self, service: str, port: int, scheme: str) -> str:
        return workers.target_url(self.cluster, self.namespace, service, port, scheme)

    def worker_record(self) -> dict[str, Any]:
        return {
            "engine": ENGINE,
            "namespace": self.namespace,
            "deployment": workers.NAME,
            "kubeconfig": str(self.cluster.kubeconfig or ""),
        }

    def place_workers(self, placement: WorkerPlacement) -> dict[str, Any]:
        workers.place(self.cluster, self.namespace, self.run_id, placement)
        return self.worker_record()

    def worker_tasks(self) -> list[WorkerTask]:
        return workers.tasks(self.cluster, self.namespace, self.run_id)

    def remove_workers(self) -> str:
        return "; ".join(workers.remove(self.cluster, self.namespace, self.run_id))

    def teardown(self) -> None:
        if self._observer is not None:
            self.stop_observing()
        namespaces.remove(self.cluster, self.namespace, self.run_id)

    def sweep(self) -> str:
        ns = namespaces.read(self.cluster, self.namespace)
        if ns is None or namespaces.owner_run(ns) != self.run_id:
            return ""
        what = namespaces.describe(self.cluster, self.namespace)
        namespaces.remove(self.cluster, self.namespace, self.run_id)
        return what

    def environment(self) -> dict[str, Any]:
        cluster = self.cluster
        with translated("read the cluster's version and nodes"):
            version = k8s.VersionApi(cluster.api).get_code(_request_timeout=30).git_version
            nodes = cluster.core.list_node(_request_timeout=30).items
        return {
            "engine": ENGINE,
            "engine_version": f"Kubernetes {version}",
            "cluster_nodes": len(nodes),
            "namespace": self.namespace,
            "kubeconfig": str(cluster.kubeconfig or ""),
            "local_cluster": cluster.local,
            "images": {image: image for image in manifests.images(self.objects())},
        }

    def journal_record(self) -> dict[str, Any]:
        return {
            "engine": ENGINE,
            "compose": str(self.manifests_path),
            "namespace": self.namespace,
            "kubeconfig": str(self.cluster.kubeconfig or ""),
        }

    def observe(self, emit: EmitFn) -> None:
        self._observer = ReplicaObserver(self.cluster, self.namespace, emit)
        self._observer.start()

    def stop_observing(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None

    def finish(self) -> list[str]:
        return []


def kubectl() -> str | None:
    """kubectl for kustomize: PATH's, else the local cluster's."""
    import shutil

    found = shutil.which("kubectl")
    if found:
        return found
    local = Path("/var/cache/hachaos/kube/bin/kubectl")
    return str(local) if local.exists() else None


def remove_left(namespace: str, run_id: str, kubeconfig: str | None) -> list[str]:
    """What ``hachaos cleanup`` does for a dead run: delete its namespace if it is still
    the one that run created (label + run annotation), and wait until it is gone."""
    cluster = connect(kubeconfig or None)
    ns = namespaces.read(cluster, namespace)
    if ns is None:
        return []
    if namespaces.owner_run(ns) != run_id:
        return [f"namespace {namespace} left alone: it is not the one run {run_id} created"]
    what = namespaces.describe(cluster, namespace)
    namespaces.remove(cluster, namespace, run_id)
    return [f"removed {what}"]
