"""Commands in a pod's container through the exec API (a websocket stream).

The client's ``stream`` swaps the request method of the API client it is given, so
every exec gets an API client of its own: execs from several fault threads at once
never meet.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from harness.engine.kubernetes.cluster import Cluster, translated
from harness.errors import EngineError, TargetNotFound

MAX_OUTPUT = 64 * 1024  # characters kept of a command's output
DETACHED_TIMEOUT = 24 * 3600.0  # s a detached exec's stream is held at most
_log = logging.getLogger(__name__)


def _open(
    cluster: Cluster, namespace: str, pod: str, container: str, command: list[str], timeout: float
) -> Any:
    api = k8s.CoreV1Api(k8s.ApiClient(cluster.api.configuration))
    try:
        with translated(f"exec in {namespace}/{pod}"):
            return stream(
                api.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                container=container,
                command=command,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _preload_content=False,
                _request_timeout=timeout,
            )
    except ApiException as exc:  # the websocket upgrade reports errors its own way
        if exc.status == 404:
            raise TargetNotFound(f"exec in {namespace}/{pod}: pod gone") from exc
        raise EngineError(f"exec in {namespace}/{pod}: {exc.reason}") from exc


def _drain(resp: Any, what: str, timeout: float) -> tuple[int, str]:
    """Read the exec's output until it ends; (exit code, output)."""
    out: list[str] = []
    size = 0
    deadline = time.monotonic() + timeout
    try:
        while resp.is_open():
            if time.monotonic() > deadline:
                raise EngineError(f"exec in {what} did not finish within {timeout:.0f} s")
            resp.update(timeout=1)
            for chunk in (resp.read_stdout(), resp.read_stderr()):
                if chunk and size < MAX_OUTPUT:
                    out.append(chunk[: MAX_OUTPUT - size])
                    size += len(chunk)
        code = resp.returncode
    finally:
        resp.close()
    return (int(code) if code is not None else -1), "".join(out)


def run(
    cluster: Cluster,
    namespace: str,
    pod: str,
    container: str,
    command: list[str],
    *,
    timeout: float = 30.0,
) -> tuple[int, str]:
    """Run ``command`` in the container; returns (exit code, stdout + stderr)."""
    resp = _open(cluster, namespace, pod, container, command, timeout)
    return _drain(resp, f"{namespace}/{pod}", timeout)


def start(
    cluster: Cluster,
    namespace: str,
    pod: str,
    container: str,
    command: list[str],
    *,
    timeout: float = DETACHED_TIMEOUT,
) -> None:
    """Start ``command`` and return; a daemon thread holds the stream until it ends (the
    command bounds its own life: the faults give it a deadline). Closing the stream does
    not stop the command, so a dead hachaos leaves it to that deadline."""
    resp = _open(cluster, namespace, pod, container, command, timeout)

    def hold() -> None:
        try:
            _drain(resp, f"{namespace}/{pod}", timeout)
        except Exception:  # the command goes on; its fault verifies what it does
            _log.debug("detached exec in %s/%s ended", namespace, pod, exc_info=True)

    threading.Thread(target=hold, name=f"exec-{pod}", daemon=True).start()
