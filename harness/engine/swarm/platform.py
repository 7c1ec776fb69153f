"""The Swarm engine's fault-facing API: every capability of harness/engine/capabilities.py.

Task replacement (a stopped task gets a new one in its slot), services (scale, update,
roll back), nodes (drain, lose) and load workers (cleanup removes a dead run's): the
registry detects them on this module, and the faults reach them through
``FaultContext.tasks``, ``.services`` and ``.nodes``.
"""

from __future__ import annotations

from harness.engine.swarm import workers as swarm_workers
from harness.engine.swarm.names import check_stack_name
from harness.engine.swarm.nodes import (
    engine_frozen,
    engine_pid,
    freeze_engine,
    node_spec,
    require_nodes,
    set_availability,
    task_node,
)
from harness.engine.swarm.services import (
    inspect_service,
    replicated_count,
    rollback_service,
    service_id,
    update_service,
    update_state,
)
from harness.engine.swarm.tasks import (
    new_running_tasks,
    running_task_ids,
    wait_replaced,
    wait_running,
)


def remove_left_workers(stack: str, run_id: str) -> list[str]:
    """The load workers a dead run placed beside ``stack`` (``hachaos cleanup``)."""
    return swarm_workers.remove(check_stack_name(stack), run_id)


__all__ = [
    "engine_frozen",
    "engine_pid",
    "freeze_engine",
    "inspect_service",
    "new_running_tasks",
    "node_spec",
    "remove_left_workers",
    "replicated_count",
    "require_nodes",
    "rollback_service",
    "running_task_ids",
    "service_id",
    "set_availability",
    "task_node",
    "update_service",
    "update_state",
    "wait_replaced",
    "wait_running",
]
