"""The container calls of the faults on Kubernetes (harness/faults/ports.py ``Containers``).

Most come from :mod:`pods` (the API); the ones the API has no call for go through a
helper pod on the target's node (:mod:`helper_pods`): ``pause`` (SIGSTOP of every
process of the container, found by its cgroup; SIGCONT on revert) and the CPU quota of
the container's cgroup (``cpu``). A paused container is seen from inside: its main
process is in state ``T``.
"""

from __future__ import annotations

import re
import shlex
import threading

from harness.engine.kubernetes import helper_pods, pods
from harness.engine.kubernetes.pods import (  # noqa: F401  (the protocol's other calls)
    addresses,
    exec_in,
    exists,
    find_by_name,
    host_pid,
    inspect,
    kill,
    mounts,
    park,
    project_targets,
    remove,
    resolve,
    restart,
    shared_namespaces,
    start,
    state,
    stop,
    unpark,
)
from harness.errors import FaultError

_paused: set[str] = set()
_lock = threading.Lock()


def _procs(cid: str) -> str:
    """Shell: the host pids of every process of container ``cid`` in $PIDS."""
    return (
        "PIDS=\n"
        "for p in /proc/[0-9]*; do\n"
        # zombies are skipped: nothing to stop, and no cgroup directory to read
        f'  grep -q {shlex.quote(cid)} "$p/cgroup" 2>/dev/null && [ -e "$p/ns/net" ] &&'
        ' PIDS="$PIDS ${p#/proc/}"\n'
        "done\n"
        '[ -n "$PIDS" ] || { echo "no process of the container"; exit 3; }\n'
    )


def _signal_all(container_id: str, sig: str) -> None:
    ns, _, _ = pods.split_id(container_id)
    script = _procs(pods.container_uid(container_id)) + f"kill -{sig} $PIDS\n"
    code, out = helper_pods.run_once(
        ["sh", "-c", script],
        run_id="pause",
        project=ns,
        pid_mode="host",
        cap_add=["KILL"],
        node=pods.node_of(container_id),
    )
    if code != 0:
        raise FaultError(f"SIG{sig} of {container_id} failed: {out.strip()[-200:]}")


def pause(container_id: str) -> None:
    """SIGSTOP every process of the container (from a helper pod on its node)."""
    _signal_all(container_id, "STOP")
    with _lock:
        _paused.add(container_id)


def unpause(container_id: str) -> None:
    """SIGCONT every process of the container."""
    _signal_all(container_id, "CONT")
    with _lock:
        _paused.discard(container_id)


def _main_stopped(container_id: str) -> bool:
    code, out = pods.exec_in(container_id, "cat /proc/1/stat")
    if code != 0:
        return False
    # pid (comm) STATE ...: the comm may hold spaces, so read after the last ')'.
    return out.rsplit(")", 1)[-1].split()[:1] == ["T"]


def status(container_id: str) -> str:
    """As :func:`pods.status`, and ``paused`` when the container's main process is stopped
    (asked only where a pause is likely: this process paused it, or it is not Ready)."""
    got = pods.status(container_id)
    if got != "running":
        return got
    with _lock:
        suspect = container_id in _paused
    if not suspect:
        suspect = not pods.ready(container_id)
    return "paused" if suspect and _main_stopped(container_id) else "running"


def wait_status(
    container_id: str, wanted: set[str], *, timeout: float, interval: float = 0.2
) -> str:
    """As :func:`pods.wait_status`, with ``paused`` seen (:func:`status`)."""
    return pods.wait_status(
        container_id, wanted, timeout=timeout, interval=max(interval, 0.2), status_of=status
    )


# ------------------------------------------------------------------ CPU quota (cgroup)
_CGROUP = (
    # The container's cpu cgroup directory (v1: the cpu controller's; v2: the unified one).
    "P=$(echo $PIDS | cut -d' ' -f1)\n"
    "if [ -d /host-cgroup/cpu,cpuacct ] || [ -d /host-cgroup/cpu ]; then\n"
    "  REL=$(grep -E '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/$P/cgroup | head -n1 | cut -d: -f3)\n"
    '  D=/host-cgroup/cpu$REL; [ -d "$D" ] || D=/host-cgroup/cpu,cpuacct$REL\n'
    "  V=1\n"
    "else\n"
    "  REL=$(grep -E '^0::' /proc/$P/cgroup | cut -d: -f3); D=/host-cgroup$REL; V=2\n"
    "fi\n"
    '[ -d "$D" ] || { echo "no cgroup directory for the container ($D)"; exit 3; }\n'
)


def _cgroup_script(container_id: str, body: str) -> tuple[str, str, str]:
    ns, _, _ = pods.split_id(container_id)
    return ns, pods.node_of(container_id), _procs(pods.container_uid(container_id)) + _CGROUP + body


def cpu_limits(container_id: str) -> dict[str, int]:
    """The container's CFS quota and period, read from its cgroup (NanoCpus is Docker's)."""
    ns, node, script = _cgroup_script(
        container_id,
        'if [ $V = 1 ]; then echo "$(cat $D/cpu.cfs_quota_us) $(cat $D/cpu.cfs_period_us)"; '
        "else cat $D/cpu.max; fi\n",
    )
    code, out = helper_pods.run_once(
        ["sh", "-c", script],
        run_id="cpu",
        project=ns,
        pid_mode="host",
        node=node,
        cgroup_mount=True,
    )
    m = re.search(r"(-?\d+|max) (\d+)\s*$", out.strip())
    if code != 0 or m is None:
        raise FaultError(f"cannot read the CPU quota of {container_id}: {out.strip()[-200:]}")
    quota = -1 if m.group(1) == "max" else int(m.group(1))
    return {"NanoCpus": 0, "CpuQuota": quota, "CpuPeriod": int(m.group(2))}


def update_resources(container_id: str, resources: dict[str, int]) -> None:
    """Write CpuQuota/CpuPeriod into the container's cgroup (-1: no limit)."""
    quota = int(resources.get("CpuQuota", -1))
    period = int(resources.get("CpuPeriod", 100_000))
    if not (1000 <= period <= 1_000_000) or not (quota == -1 or 1000 <= quota <= 10**9):
        raise FaultError(f"refusing CPU quota {quota} / period {period}")
    v2 = "max" if quota == -1 else str(quota)
    ns, node, script = _cgroup_script(
        container_id,
        f"if [ $V = 1 ]; then echo {period} > $D/cpu.cfs_period_us && "
        f"echo {quota} > $D/cpu.cfs_quota_us; else echo '{v2} {period}' > $D/cpu.max; fi\n",
    )
    code, out = helper_pods.run_once(
        ["sh", "-c", script],
        run_id="cpu",
        project=ns,
        pid_mode="host",
        node=node,
        cgroup_mount=True,
    )
    if code != 0:
        raise FaultError(f"cannot set the CPU quota of {container_id}: {out.strip()[-200:]}")
