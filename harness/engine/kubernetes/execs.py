"""Commands in a pod's container through the exec API (a websocket stream).

The client's ``stream`` swaps the request method of the API client it is given, so
every exec gets an API client of its own: execs from several fault threads at once
never meet.
"""

from __future__ import annotations

import time

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from harness.engine.kubernetes.cluster import Cluster, translated
from harness.errors import EngineError, TargetNotFound

MAX_OUTPUT = 64 * 1024  # characters kept of a command's output


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
    api = k8s.CoreV1Api(k8s.ApiClient(cluster.api.configuration))
    try:
        with translated(f"exec in {namespace}/{pod}"):
            resp = stream(
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
    out: list[str] = []
    size = 0
    deadline = time.monotonic() + timeout
    try:
        while resp.is_open():
            if time.monotonic() > deadline:
                raise EngineError(
                    f"exec in {namespace}/{pod} did not finish within {timeout:.0f} s"
                )
            resp.update(timeout=1)
            for chunk in (resp.read_stdout(), resp.read_stderr()):
                if chunk and size < MAX_OUTPUT:
                    out.append(chunk[: MAX_OUTPUT - size])
                    size += len(chunk)
        code = resp.returncode
    finally:
        resp.close()
    return (int(code) if code is not None else -1), "".join(out)
