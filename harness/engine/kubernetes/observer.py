"""Kubernetes' own view of the replicas, from the watch API, as events of the run.

One thread per workload kind watches the namespace's Deployments and StatefulSets and
emits a replicas event whenever a workload's ready/desired count changes: the same
events the Swarm observer emits (``harness/analysis/swarm.py`` turns them into the time
to the desired replica count beside the load's recovery). ``wall`` is when the watch
delivered the change (the API's own timestamps have whole seconds only).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes import watch

from harness.engine.kubernetes import pods
from harness.engine.kubernetes.cluster import Cluster

EV_REPLICAS = "swarm.replicas"  # same shape as Swarm's: service, running, desired, wall
WATCH_WINDOW = 60  # s per watch request; it is renewed until stopped
_log = logging.getLogger(__name__)


class ReplicaObserver:
    """Watches a namespace's workloads until :meth:`stop`."""

    def __init__(self, cluster: Cluster, namespace: str, emit: Callable[..., object]) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.emit = emit
        self._stop = threading.Event()
        self._last: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._watches: list[watch.Watch] = []
        self._threads = [
            threading.Thread(
                target=self._loop, args=(lister,), name=f"kube-watch-{kind}", daemon=True
            )
            for kind, lister in (
                ("deployments", cluster.apps.list_namespaced_deployment),
                ("statefulsets", cluster.apps.list_namespaced_stateful_set),
            )
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for w in self._watches:
                w.stop()
        for t in self._threads:
            t.join(timeout=WATCH_WINDOW + 5)

    def _loop(self, lister: Callable[..., Any]) -> None:
        while not self._stop.is_set():
            w = watch.Watch()
            with self._lock:
                self._watches.append(w)
            try:
                for event in w.stream(
                    lister,
                    self.namespace,
                    timeout_seconds=WATCH_WINDOW,
                    _request_timeout=WATCH_WINDOW + 10,
                ):
                    if self._stop.is_set():
                        break
                    self._seen(event.get("object"))
            except Exception:  # a dropped watch is renewed; the run goes on without it
                _log.debug("kubernetes watch ended", exc_info=True)
                if not self._stop.wait(1.0):
                    continue
            finally:
                with self._lock:
                    self._watches.remove(w)

    def _seen(self, obj: Any) -> None:
        if obj is None or obj.metadata is None or pods.hachaos_pod(obj.metadata.labels):
            return  # the load workers' Deployment is not a replica of the stack
        name = str(obj.metadata.name)
        desired = int(obj.spec.replicas or 0) if obj.spec is not None else 0
        ready = int((obj.status.ready_replicas if obj.status else 0) or 0)
        with self._lock:
            if self._last.get(name) == (ready, desired):
                return
            self._last[name] = (ready, desired)
        self.emit(
            EV_REPLICAS,
            service=name,
            running=ready,
            desired=desired,
            wall=time.time(),
            since=None,
            platform="Kubernetes",
        )
