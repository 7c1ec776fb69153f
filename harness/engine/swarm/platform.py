"""The Swarm engine's fault-facing API: every capability of harness/engine/capabilities.py.

Task replacement (a stopped task gets a new one in its slot), services (scale, update,
roll back) and nodes (drain, lose): the registry detects them on this module, and the
faults reach them through ``FaultContext.tasks``, ``.services`` and ``.nodes``.
"""

from __future__ import annotations

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

__all__ = [
    "engine_frozen",
    "engine_pid",
    "freeze_engine",
    "inspect_service",
    "new_running_tasks",
    "node_spec",
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
