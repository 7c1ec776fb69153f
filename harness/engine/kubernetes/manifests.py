"""A stack's manifests: one file, a folder of files, or a kustomize folder; read, bounded,
checked, put in apply order, and seen by the scenario checks as services with replicas.

Every object goes into the run's own namespace, so a manifest may not name another
namespace, create one, or create a cluster-wide object: those would outlive the run's
namespace or touch what is not the run's. Refused before anything is deployed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError
from harness.scenario.compose import ComposeConfig, ServiceInfo

MAX_BYTES = 4 * 1024 * 1024  # all manifests together
MAX_OBJECTS = 500
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_TIMEOUT = 60.0

# Namespaced kinds in the order they are created (as Helm installs them): what a pod
# mounts or names exists before the pod; Services before the workloads, so that the
# pods get the Services' environment variables (no cluster DNS needed).
APPLY_ORDER = (
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "Ingress",
)
# Cluster-wide kinds a run never creates (they would outlive its namespace).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "APIService",
        "CSIDriver",
        "IngressClass",
        "RuntimeClass",
        "PodSecurityPolicy",
    }
)
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


def _fail(path: Path, why: str, hint: str | None = None) -> ScenarioError:
    return ScenarioError(
        f"{path}: {why}",
        hint=hint or "fix the manifests; docs/engines.md says what a Kubernetes stack may hold",
    )


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    raise _fail(path, "no such file or folder", "`stack.manifests` is relative to the scenario")


def kustomization(path: Path) -> Path | None:
    """The kustomization file of a folder, if it is one."""
    if not path.is_dir():
        return None
    return next((path / k for k in KUSTOMIZATIONS if (path / k).is_file()), None)


def _kustomize(path: Path, kubectl: str | None) -> str:
    """``kubectl kustomize <folder>`` (kustomize is built into kubectl)."""
    exe = kubectl or shutil.which("kubectl")
    if exe is None:
        raise _fail(
            path,
            "is a kustomize folder, and rendering it needs kubectl",
            "install kubectl (the local cluster's is in /var/cache/hachaos/kube/bin), or list "
            "the manifest files instead",
        )
    try:
        done = subprocess.run(
            [exe, "kustomize", str(path)],
            capture_output=True,
            text=True,
            timeout=KUSTOMIZE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _fail(path, f"kubectl kustomize failed: {exc}") from exc
    if done.returncode != 0:
        raise _fail(path, f"kubectl kustomize failed: {done.stderr.strip()[-500:]}")
    if len(done.stdout) > MAX_BYTES:
        raise _fail(path, f"the rendered manifests are larger than {MAX_BYTES} bytes")
    return done.stdout


def _texts(path: Path, kubectl: str | None) -> list[tuple[str, str]]:
    """(label, YAML text) of every manifest source."""
    if kustomization(path) is not None:
        return [(str(path), _kustomize(path, kubectl))]
    out, total = [], 0
    for f in _files(path):
        size = f.stat().st_size
        total += size
        if total > MAX_BYTES:
            raise _fail(path, f"the manifests are larger than {MAX_BYTES} bytes together")
        out.append((str(f), f.read_text(encoding="utf-8")))
    return out


def _expand(doc: Any) -> Iterable[Any]:
    if isinstance(doc, Mapping) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
        yield from doc.get("items") or []
    elif doc is not None:
        yield doc


def check_object(label: str, doc: Any) -> dict[str, Any]:
    """One manifest object, refused unless it can live in the run's namespace."""
    if not isinstance(doc, Mapping):
        raise ScenarioError(f"{label}: a manifest is not a mapping: {str(doc)[:80]!r}")
    kind, version = doc.get("kind"), doc.get("apiVersion")
    meta = doc.get("metadata") or {}
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not (isinstance(kind, str) and isinstance(version, str) and isinstance(name, str)):
        raise ScenarioError(f"{label}: every object needs apiVersion, kind and metadata.name")
    if kind in CLUSTER_SCOPED:
        raise ScenarioError(
            f"{label}: {kind} {name!r} is cluster-wide; hachaos deploys a stack into one "
            "namespace of its own per run and creates nothing outside it",
            hint="create cluster-wide objects beforehand, and leave them out of stack.manifests",
        )
    if meta.get("namespace"):
        raise ScenarioError(
            f"{label}: {kind} {name!r} names namespace {meta['namespace']!r}; every object of "
            "a run goes into the run's own namespace",
            hint="drop metadata.namespace (and `namespace:` of a kustomization)",
        )
    return dict(doc)


def load(path: Path, kubectl: str | None = None) -> list[dict[str, Any]]:
    """Every object of the stack's manifests, checked, in apply order."""
    objects: list[dict[str, Any]] = []
    for label, text in _texts(path, kubectl):
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{label}: not valid YAML: {exc}") from exc
        for doc in docs:
            for obj in _expand(doc):
                objects.append(check_object(label, obj))
                if len(objects) > MAX_OBJECTS:
                    raise _fail(path, f"more than {MAX_OBJECTS} objects")
    if not objects:
        raise _fail(path, "holds no Kubernetes object")
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["name"])
        if key in seen:
            raise _fail(path, f"{key[0]} {key[1]!r} is defined twice")
        seen.add(key)
    rank = {k: i for i, k in enumerate(APPLY_ORDER)}
    return sorted(objects, key=lambda o: rank.get(o["kind"], len(APPLY_ORDER)))


def pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a workload (or of a bare Pod)."""
    if obj.get("kind") == "Pod":
        return obj.get("spec") or {}
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _template_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    return dict(
        ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    )


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def replicas_of(obj: Mapping[str, Any]) -> int:
    """The replica count a workload asks for (1 when it does not say; DaemonSet: 1 node)."""
    value = (obj.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def definition(path: Path, objects: list[dict[str, Any]]) -> ComposeConfig:
    """The manifests as the scenario checks see a stack: one service per workload (with its
    replicas) and one per Service that publishes a port on the node (NodePort)."""
    workloads = [o for o in objects if o["kind"] in WORKLOADS or o["kind"] == "Pod"]
    services: dict[str, ServiceInfo] = {}
    for w in workloads:
        spec = pod_spec(w)
        image = next((c.get("image") for c in spec.get("containers") or []), None)
        services[w["metadata"]["name"]] = ServiceInfo(
            name=w["metadata"]["name"],
            replicas=replicas_of(w),
            ports=(),
            networks=("pods",),
            restart="always" if w["kind"] != "Pod" else spec.get("restartPolicy", "Always"),
            image=image,
            build=False,
            network_mode="host" if spec.get("hostNetwork") else None,
            pid="host" if spec.get("hostPID") else None,
        )
    for svc in (o for o in objects if o["kind"] == "Service"):
        spec = svc.get("spec") or {}
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            continue
        ports = tuple(int(p["port"]) for p in spec.get("ports") or [] if "port" in p)
        selected = [
            w for w in workloads if _selects(spec.get("selector") or {}, _template_labels(w))
        ]
        name = svc["metadata"]["name"]
        base = services.get(name) or (
            services.get(selected[0]["metadata"]["name"]) if selected else None
        )
        replicas = base.replicas if base else 1
        services[name] = ServiceInfo(
            name=name,
            replicas=replicas,
            ports=tuple(sorted(set((base.ports if base and base.name == name else ()) + ports))),
            networks=("pods",),
            restart="always",
            image=base.image if base else None,
            build=False,
        )
    raw: dict[str, Any] = {
        "services": {n: {"deploy": {"replicas": s.replicas}} for n, s in services.items()}
    }
    for w in workloads:  # an HTTP readiness probe reads as compose's healthcheck URL
        probe = (
            next((c.get("readinessProbe") for c in pod_spec(w).get("containers") or []), None) or {}
        )
        http = probe.get("httpGet") or {}
        if http.get("path"):
            url = f"http://localhost:{http.get('port', 80)}{http['path']}"
            raw["services"][w["metadata"]["name"]]["healthcheck"] = {"test": ["CMD", url]}
    return ComposeConfig(path=path, services=dict(sorted(services.items())), raw=raw)


def images(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every container image the manifests name (init containers included)."""
    found: set[str] = set()
    for o in objects:
        spec = pod_spec(o)
        for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
            if isinstance(c, Mapping) and isinstance(c.get("image"), str):
                found.add(c["image"])
    return sorted(found)


def is_manifest_source(path: Path) -> bool:
    """Whether ``path`` holds Kubernetes manifests (a folder, or YAML with kind/apiVersion
    and no compose ``services:``)."""
    if path.is_dir():
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="replace")
    except OSError:
        return False
    return "apiVersion:" in head and "kind:" in head and "services:" not in head
