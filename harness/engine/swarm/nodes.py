"""The swarm's nodes as the node faults use them: drain one, or stop the engine of one
hachaos started (scripts/swarm-node), and see it come back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psutil

from harness.engine.client import client, translated
from harness.engine.swarm.names import ENGINE_PID_LABEL
from harness.errors import EngineError, FaultError


def node_count() -> int:
    """How many nodes the swarm has (0 when the engine is not in a swarm)."""
    with translated("reading the swarm's nodes"):
        return int(client().info().get("Swarm", {}).get("Nodes") or 0)


def require_nodes(
    fault_type: str, *, single_node_ok: bool = False, count: Callable[[], int] = node_count
) -> None:
    """Refuse a node fault on a swarm with fewer than two nodes, whatever
    ``single_node_ok`` says: a swarm drains every stack's tasks, not only this run's."""
    nodes = count()
    if nodes < 2:
        raise FaultError(
            f"a `{fault_type}` fault needs a multi-node swarm, and this one has {nodes} node(s): "
            "on a single node it would stop every task of every stack on the engine, not only "
            "this run's, and nothing could be rescheduled",
            hint="join a second node first (scripts/swarm-node, docs/engines.md), or use "
            "`kill`/`service-scale` on a single node",
        )


def task_node(task_id: str) -> str:
    """The id of the node a task runs on."""
    with translated(f"inspect task {task_id[:12]}"):
        return str(client().api.inspect_task(task_id).get("NodeID", ""))


def node_spec(node_id: str) -> dict[str, Any]:
    """A node's inspect document."""
    with translated(f"inspect node {node_id[:12]}"):
        return dict(client().api.inspect_node(node_id))


def set_availability(node_id: str, availability: str) -> None:
    """Set a node's availability (active | pause | drain)."""
    with translated(f"update node {node_id[:12]}"):
        doc = client().api.inspect_node(node_id)
        spec = {**doc["Spec"], "Availability": availability}
        client().api.update_node(node_id, doc["Version"]["Index"], spec)


def engine_pid(node_id: str) -> int:
    """The pid of a node's engine, from the label scripts/swarm-node set; FaultError if none."""
    labels = node_spec(node_id)["Spec"].get("Labels") or {}
    raw = str(labels.get(ENGINE_PID_LABEL, ""))
    if not raw.isdigit():
        raise FaultError(
            f"node {node_id[:12]} has no {ENGINE_PID_LABEL} label: hachaos stops only an "
            "engine it started itself (scripts/swarm-node)",
            hint="target a task on the node scripts/swarm-node started",
        )
    pid = int(raw)
    try:
        name = psutil.Process(pid).name()
    except psutil.Error as exc:
        raise FaultError(f"the engine of node {node_id[:12]} (pid {pid}) is not running") from exc
    if name != "dockerd":
        raise FaultError(f"pid {pid} of node {node_id[:12]} is {name!r}, not dockerd: refused")
    return pid


def freeze_engine(pid: int, *, frozen: bool) -> None:
    """SIGSTOP (``frozen``) or SIGCONT a node's engine: to the swarm, the node is lost."""
    try:
        proc = psutil.Process(pid)
        proc.suspend() if frozen else proc.resume()
    except psutil.Error as exc:
        raise EngineError(
            f"cannot {'stop' if frozen else 'resume'} engine pid {pid}: {exc}"
        ) from exc


def engine_frozen(pid: int) -> bool:
    """Whether the engine process is stopped."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_STOPPED)
    except psutil.Error:
        return False
