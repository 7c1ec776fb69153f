"""Helper pods: the privileged work of the faults on Kubernetes (Chaos Mesh's daemon, per fault).

Pods are not Docker containers, so a fault reaches a target's network namespace the way
Chaos Mesh's chaos-daemon does: from a short-lived helper pod on the target's node, with
``hostPID`` (to see the target's processes), which finds a process of the target's
container by the container id in its cgroup and enters that network namespace with
``nsenter -n``. The helper has no host network, no host mount and is not privileged: it
drops every capability and adds back NET_ADMIN (iptables, tc), and the two the kernel
asks of ``setns`` into another user's namespace: SYS_ADMIN (setns) and SYS_PTRACE (to
open /proc/<pid>/ns/net of a process of another uid).

Dead-man switch, three times over: the helper script reverts at its own deadline; the
pod's ``activeDeadlineSeconds`` makes the kubelet stop it (SIGTERM: the script's trap
reverts) shortly after; and the pod lives in the run's namespace, so deleting the
namespace (teardown, ``hachaos cleanup``) stops it too.

Helpers are named by the fault (lowercased: pod names are); the namespace is found
from the target, and for a helper of a dead run by its name and label.
"""

from __future__ import annotations

import shlex
import threading
import time
from typing import Any

from kubernetes import client as k8s

from harness.clock import poll_until
from harness.engine import helpers as docker_helpers
from harness.engine.kubernetes import execs, images, pods
from harness.engine.kubernetes.cluster import Cluster, connect, for_namespace, translated
from harness.errors import EngineError, FaultError, TargetNotFound

HELPER_LABEL = pods.HELPER_LABEL
RUN_ANNOTATION = "io.hachaos/run-id"
PIDFILE = "/tmp/hachaos-target.pid"
CAPS = ("NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE")
DEADLINE_SLACK = 30  # s the kubelet waits past the script's own deadline
_START_TIMEOUT = 90.0  # s for a helper pod to run (image present: a few seconds)

_namespaces: dict[str, str] = {}  # helper name -> namespace, for this process's helpers
_reported: set[str] = set()  # helper names whose script printed its marker (it runs)
_lock = threading.Lock()


def helper_name(name: str) -> str:
    """A fault's helper name as a pod name (lowercase, at most 63)."""
    return pods.check_name(name.lower()[:63].rstrip("-"), "helper pod")


def ensure_image() -> str:
    """The helper image (the same as Docker's), put into the local cluster when it is that."""
    image = docker_helpers.ensure_image()
    cluster = connect()
    if cluster.local:
        images.load_local([image])
    return image


def _find_pid(container_uid: str) -> str:
    """Shell that sets PID to a process of the container (from the cgroups it is in)."""
    cid = shlex.quote(container_uid)
    return (
        "PID=\n"
        "for p in /proc/[0-9]*; do\n"
        # a zombie (no namespaces any more) is skipped: its netns cannot be entered
        f'  if grep -q {cid} "$p/cgroup" 2>/dev/null && [ -e "$p/ns/net" ]; then\n'
        "    PID=${p#/proc/}; break\n"
        "  fi\n"
        "done\n"
        'if [ -z "$PID" ]; then echo "FAILED: no process of the target container"; exit 1; fi\n'
        f'echo "$PID" > {PIDFILE}\n'
    )


def _in_netns(script: str) -> list[str]:
    """argv that runs ``script`` in the target's netns (the pid the helper recorded)."""
    return ["sh", "-c", f'exec nsenter -t "$(cat {PIDFILE})" -n -- sh -c "$1"', "_", script]


def _pod_body(
    name: str,
    namespace: str,
    node: str,
    command: list[str],
    *,
    run_id: str,
    deadline: float,
    caps: tuple[str, ...],
    cgroup_mount: bool = False,
) -> k8s.V1Pod:
    volumes, mounts = None, None
    if cgroup_mount:
        volumes = [
            k8s.V1Volume(
                name="cgroup",
                host_path=k8s.V1HostPathVolumeSource(path="/sys/fs/cgroup", type="Directory"),
            )
        ]
        mounts = [k8s.V1VolumeMount(name="cgroup", mount_path="/host-cgroup")]
    return k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(
            name=name,
            namespace=namespace,
            labels={HELPER_LABEL: "1", "app.kubernetes.io/managed-by": "hachaos"},
            annotations={RUN_ANNOTATION: run_id},
        ),
        spec=k8s.V1PodSpec(
            node_name=node,  # the target's node: no scheduling, no spreading
            host_pid=True,
            restart_policy="Never",
            automount_service_account_token=False,
            enable_service_links=False,
            termination_grace_period_seconds=10,
            active_deadline_seconds=int(deadline) + DEADLINE_SLACK,
            tolerations=[k8s.V1Toleration(operator="Exists")],  # a cordoned node too
            volumes=volumes,
            containers=[
                k8s.V1Container(
                    name="helper",
                    image=docker_helpers.HELPER_IMAGE,
                    image_pull_policy="IfNotPresent",
                    command=command,
                    volume_mounts=mounts,
                    security_context=k8s.V1SecurityContext(
                        privileged=False,
                        allow_privilege_escalation=False,
                        run_as_user=0,
                        capabilities=k8s.V1Capabilities(drop=["ALL"], add=list(caps)),
                    ),
                    resources=k8s.V1ResourceRequirements(
                        requests={"cpu": "10m", "memory": "16Mi"},
                        limits={"cpu": "500m", "memory": "128Mi"},
                    ),
                )
            ],
        ),
    )


def _create(cluster: Cluster, body: k8s.V1Pod) -> None:
    ns, name = body.metadata.namespace, body.metadata.name
    with translated(f"create helper pod {ns}/{name}"):
        cluster.core.create_namespaced_pod(ns, body, _request_timeout=30)
    with _lock:
        _namespaces[name] = ns


def _locate(helper: str) -> tuple[Cluster, str, str] | None:
    """(cluster, namespace, pod name) of a helper, or None when it does not exist."""
    name = helper_name(helper)
    with _lock:
        ns = _namespaces.get(name)
    if ns is not None:
        return for_namespace(ns), ns, name
    cluster = connect()
    with translated(f"find helper pod {name}"):
        found = cluster.core.list_pod_for_all_namespaces(
            label_selector=HELPER_LABEL,
            field_selector=f"metadata.name={name}",
            _request_timeout=30,
        ).items
    if not found:
        return None
    return cluster, str(found[0].metadata.namespace), name


def start_netns_helper(
    target_id: str,
    name: str,
    script: str,
    *,
    run_id: str,
    project: str,
    caps: tuple[str, ...] = ("NET_ADMIN",),
) -> str:
    """Start a helper pod on the target's node that runs ``sh -c script`` in its netns."""
    ns, _, _ = pods.split_id(target_id)
    node = pods.node_of(target_id)
    uid = pods.container_uid(target_id)
    deadline = _deadline_of(script)
    command = ["sh", "-c", _find_pid(uid) + 'exec nsenter -t "$PID" -n -- sh -c "$1"', "_", script]
    body = _pod_body(
        helper_name(name),
        ns,
        node,
        command,
        run_id=run_id,
        deadline=deadline,
        caps=tuple(sorted(set(caps) | set(CAPS))),
    )
    _create(for_namespace(ns), body)
    return helper_name(name)


def _deadline_of(script: str) -> float:
    """The script's own deadline (its ``sleep N & wait``), so the pod's is just after it."""
    for line in script.splitlines():
        if line.startswith("sleep ") and "& wait" in line:
            token = line.split()[1]
            if token.isdigit():
                return float(token)
    return 3600.0


def wait_for_line(helper_id: str, marker: str, timeout: float) -> str:
    """Poll the helper pod's log until a line starts with ``marker``; returns that line."""
    deadline = time.monotonic() + max(timeout, _START_TIMEOUT)
    seen = ""
    while time.monotonic() < deadline:
        where = _locate(helper_id)
        if where is None:
            break
        cluster, ns, name = where
        try:
            with translated(f"read helper log {ns}/{name}"):
                seen = cluster.core.read_namespaced_pod_log(name, ns, _request_timeout=10)
        except (TargetNotFound, EngineError):
            seen = seen or ""
        for line in (seen or "").splitlines():
            if line.strip().startswith(marker):
                with _lock:
                    _reported.add(name)
                return line.strip()
        phase = _phase(cluster, ns, name)
        if phase in ("Succeeded", "Failed", None):
            break
        time.sleep(0.2)
    tail = " | ".join((seen or "").strip().splitlines()[-5:]) or "no output"
    raise FaultError(f"helper pod {helper_id} did not report {marker}: {tail}")


def _phase(cluster: Cluster, ns: str, name: str) -> str | None:
    try:
        with translated(f"read helper pod {ns}/{name}"):
            return str(cluster.core.read_namespaced_pod(name, ns, _request_timeout=10).status.phase)
    except TargetNotFound:
        return None


def exec_in(container_id: str, script: str, *, timeout: float = 20.0) -> tuple[int, str]:
    """Run ``script`` in the target's netns from the running helper ``container_id``."""
    where = _locate(container_id)
    if where is None:
        raise TargetNotFound(f"helper pod {container_id} is gone")
    cluster, ns, name = where
    return execs.run(cluster, ns, name, "helper", _in_netns(script), timeout=timeout)


def is_running(container_id: str) -> bool:
    """Whether the helper pod exists and runs.

    The log shows the script's marker before the kubelet posts the pod's phase: on a busy
    node the phase stays Pending for seconds after the helper printed READY. A helper that
    reported counts as running while Pending (else a fault's check took it for dead and
    asked a fresh helper, which has none of its files: "rules are not in effect")."""
    where = _locate(container_id)
    if where is None:
        return False
    phase = _phase(*where)
    if phase == "Running":
        return True
    with _lock:
        return phase == "Pending" and where[2] in _reported


def stop_helper(helper_id: str, *, timeout: float = 10.0) -> None:
    """Delete the helper pod (SIGTERM: its trap reverts) and wait until it is gone."""
    where = _locate(helper_id)
    if where is None:
        return
    cluster, ns, name = where
    try:
        with translated(f"delete helper pod {ns}/{name}"):
            cluster.core.delete_namespaced_pod(
                name,
                ns,
                body=k8s.V1DeleteOptions(grace_period_seconds=int(timeout)),
                _request_timeout=30,
            )
    except TargetNotFound:
        return
    # Done once its process has exited (its trap reverted): the kubelet removes the pod
    # object in its own time, and the namespace's deletion at teardown waits for that.
    end = time.monotonic() + timeout + 20
    while time.monotonic() < end:
        pod = _read(cluster, ns, name)
        if pod is None or _exit_code(pod) != -1 or pod.status.phase in ("Succeeded", "Failed"):
            return
        time.sleep(0.2)
    raise EngineError(f"helper pod {ns}/{name} did not stop within {timeout + 20:.0f} s")


def run_once(
    command: list[str],
    *,
    run_id: str,
    project: str,
    network_mode: str = "none",
    pid_mode: str | None = None,
    cap_add: list[str] | None = None,
    timeout: float = 30.0,
    node: str | None = None,
    cgroup_mount: bool = False,
) -> tuple[int, str]:
    """Run a throwaway helper pod to completion; ``network_mode="container:<target id>"``
    runs ``command`` in that target's netns. Every helper pod has the host's pid namespace
    (``pid_mode`` is always host); ``node``: the node to run on; ``cgroup_mount``: the
    node's /sys/fs/cgroup at /host-cgroup (the cpu fault). Returns (exit code, output)."""
    ns = pods.check_name(project)
    argv = list(command)
    if network_mode.startswith("container:"):
        ns, node, argv = _in_netns_of(network_mode.split(":", 1)[1], command)
    name = helper_name(f"hachaos-once-{run_id[:16]}-{int(time.time() * 1000) % 10**9}")
    cluster = for_namespace(ns)
    body = _pod_body(
        name,
        ns,
        node or _any_node(cluster),
        argv,
        run_id=run_id,
        deadline=timeout,
        caps=tuple(sorted(set(cap_add or []) | set(CAPS))),
        cgroup_mount=cgroup_mount,
    )
    _create(cluster, body)
    try:
        pod = poll_until(lambda: _finished(cluster, ns, name), timeout + _START_TIMEOUT, 0.25)
        if pod is None:
            raise EngineError(f"helper pod {ns}/{name} did not finish within {timeout:.0f} s")
        with translated(f"read helper log {ns}/{name}"):
            out = cluster.core.read_namespaced_pod_log(name, ns, _request_timeout=10)
        return _exit_code(pod), str(out or "")
    finally:
        try:
            with translated(f"delete helper pod {ns}/{name}"):
                cluster.core.delete_namespaced_pod(
                    name, ns, body=k8s.V1DeleteOptions(grace_period_seconds=0)
                )
        except (TargetNotFound, EngineError):
            pass


def _in_netns_of(target: str, command: list[str]) -> tuple[str, str, list[str]]:
    """(namespace, node, argv) of a helper that runs ``command`` in ``target``'s netns."""
    ns, _, _ = pods.split_id(target)
    inner = " ".join(shlex.quote(a) for a in command)
    argv = [
        "sh",
        "-c",
        _find_pid(pods.container_uid(target))
        + f'exec nsenter -t "$PID" -n -- sh -c {shlex.quote(inner)}',
    ]
    return ns, pods.node_of(target), argv


def _finished(cluster: Cluster, ns: str, name: str) -> Any:
    """The helper pod once it has run to its end, else None; raises if it vanished."""
    pod = _read(cluster, ns, name)
    if pod is None:
        raise TargetNotFound(f"helper pod {ns}/{name} vanished")
    return pod if pod.status.phase in ("Succeeded", "Failed") else None


def _read(cluster: Cluster, ns: str, name: str) -> Any:
    try:
        with translated(f"read helper pod {ns}/{name}"):
            return cluster.core.read_namespaced_pod(name, ns, _request_timeout=10)
    except TargetNotFound:
        return None


def _exit_code(pod: Any) -> int:
    for cs in pod.status.container_statuses or []:
        if cs.state and cs.state.terminated:
            return int(cs.state.terminated.exit_code)
    return -1


def _any_node(cluster: Cluster) -> str:
    with translated("list nodes"):
        nodes = cluster.core.list_node(_request_timeout=30).items
    if not nodes:
        raise EngineError("the cluster has no node")
    return str(nodes[0].metadata.name)


def netem_available(*, run_id: str = "preflight", project: str = "hachaos") -> bool:
    """Whether the nodes' kernel has sch_netem. The local cluster's node is this host, whose
    kernel the Docker helper checks; another cluster's nodes are assumed to have it (the
    fault's verify then shows it when they do not)."""
    if connect().local:
        return docker_helpers.netem_available(run_id=run_id, project=project)
    return True


def list_helpers(*, run_id: str | None = None, project: str | None = None) -> list[dict[str, str]]:
    """Helper pods (any namespace, or the run's) as dicts of id, name, run, project, state."""
    cluster = connect()
    with translated("list helper pods"):
        if project:
            found = cluster.core.list_namespaced_pod(project, label_selector=HELPER_LABEL).items
        else:
            found = cluster.core.list_pod_for_all_namespaces(label_selector=HELPER_LABEL).items
    out = []
    for p in found:
        run = (p.metadata.annotations or {}).get(RUN_ANNOTATION, "")
        if run_id and run != run_id:
            continue
        out.append(
            {
                "id": str(p.metadata.name),
                "name": str(p.metadata.name),
                "run": run,
                "project": str(p.metadata.namespace),
                "state": str(p.status.phase).lower(),
            }
        )
    return out
