"""The connection to one Kubernetes cluster (official client, a kubeconfig), errors translated.

Which kubeconfig: the one a scenario (``stack.kubeconfig``) or the command line
(``--kubeconfig``, exported as ``HACHAOS_KUBECONFIG``) names; else the local
cluster of ``scripts/ensure-kube`` when it exists; else the client's usual
``KUBECONFIG`` / ``~/.kube/config``. Only stable APIs are used (core/v1, apps/v1),
so any cluster from 1.20 on works.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import urllib3.exceptions
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from harness.errors import EngineError, TargetNotFound

# The local cluster of scripts/ensure-kube (its state folder can be moved, as there).
LOCAL_STATE = Path(os.environ.get("HACHAOS_KUBE_STATE", "/var/lib/hachaos/kube"))
LOCAL_KUBECONFIG = LOCAL_STATE / "admin.kubeconfig"
LOCAL_CONTAINERD = Path("/run/hachaos-kube/containerd.sock")
KUBECONFIG_ENV = "HACHAOS_KUBECONFIG"  # --kubeconfig of the command line
_HINT = (
    "start the local cluster with `make kube` (scripts/ensure-kube), or name yours with "
    "`stack.kubeconfig` / `--kubeconfig`"
)
REQUEST_TIMEOUT = 30.0  # s, every API call


def kubeconfig_path(explicit: str | Path | None = None) -> Path | None:
    """The kubeconfig a run uses (None: the client's own default, ~/.kube/config)."""
    for value in (explicit, os.environ.get(KUBECONFIG_ENV)):
        if value:
            return Path(value).expanduser().resolve()
    if LOCAL_KUBECONFIG.exists():
        return LOCAL_KUBECONFIG
    env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(env).expanduser() if env else None


@dataclass(frozen=True)
class Cluster:
    """API clients for one kubeconfig."""

    kubeconfig: Path | None
    api: k8s.ApiClient

    @cached_property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.api)

    @cached_property
    def apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self.api)

    @property
    def server(self) -> str:
        return str(self.api.configuration.host)

    @property
    def local(self) -> bool:
        """Whether this is the project's own local cluster (its containerd takes local images)."""
        return (
            self.kubeconfig is not None
            and self.kubeconfig.resolve() == LOCAL_KUBECONFIG.resolve()
            and LOCAL_CONTAINERD.exists()
        )


_clusters: dict[str, Cluster] = {}
_lock = threading.Lock()


def connect(kubeconfig: str | Path | None = None) -> Cluster:
    """A (cached) connection through ``kubeconfig`` (see :func:`kubeconfig_path`)."""
    path = kubeconfig_path(kubeconfig)
    key = str(path or "")
    with _lock:
        if key in _clusters:
            return _clusters[key]
        conf = k8s.Configuration()
        try:
            k8s_config.load_kube_config(
                config_file=str(path) if path else None, client_configuration=conf
            )
        except (ConfigException, OSError, TypeError) as exc:
            raise EngineError(
                f"cannot read the kubeconfig {path or '(default)'}: {exc}", hint=_HINT
            ) from exc
        conf.retries = 1
        cluster = Cluster(path, k8s.ApiClient(conf))
        _clusters[key] = cluster
        return cluster


# The cluster each run-scoped namespace lives on, so that the fault-facing calls (which
# take the namespace first, like every engine's) reach the right one.
_by_namespace: dict[str, Cluster] = {}


def bind(namespace: str, cluster: Cluster) -> None:
    """Remember that ``namespace`` lives on ``cluster``."""
    with _lock:
        _by_namespace[namespace] = cluster
        _by_namespace[""] = cluster  # the run's cluster, for calls that name no namespace


def current() -> Cluster:
    """The cluster of this process's run (the default one before a run bound its own)."""
    return for_namespace("")


def for_namespace(namespace: str) -> Cluster:
    """The cluster of a run's namespace (the default cluster when none was bound)."""
    with _lock:
        found = _by_namespace.get(namespace)
    return found or connect()


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Map client errors raised inside the block to EngineError / TargetNotFound."""
    try:
        yield
    except ApiException as exc:
        reason = _reason(exc)
        if exc.status == 404:
            raise TargetNotFound(f"{action}: {reason}") from exc
        raise EngineError(f"{action}: {exc.status} {reason}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise EngineError(f"{action}: the cluster does not answer: {exc}", hint=_HINT) from exc


def _reason(exc: ApiException) -> str:
    """The API's own message (the body is a Status document) or the HTTP reason."""
    import json

    try:
        body: Any = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    return (
        str(body.get("message") or exc.reason or "error")
        if isinstance(body, dict)
        else str(exc.reason)
    )


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind a translated error, if any."""
    cause = exc.__cause__
    return cause.status if isinstance(cause, ApiException) else None
