"""What an engine can do beyond running containers: small optional protocols, detected.

An engine's fault-facing API (``EngineType.platform``) implements the ones its
platform has; the registry detects them with ``isinstance`` instead of reading
flags, so a new engine gains a capability by implementing its calls. A fault
spec names the capabilities it needs (``FaultBase.needs``); validation refuses
it on an engine without them, before anything is deployed.

Every call takes the run-scoped stack name first (compose project, swarm stack,
Kubernetes namespace...), so a module of functions implements a protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

TASK_REPLACEMENT = "task-replacement"
SERVICES = "services"
NODES = "nodes"


@runtime_checkable
class TaskReplacement(Protocol):
    """The platform replaces a task that stopped; a fault never starts it again."""

    def wait_replaced(
        self, stack: str, targets: Iterable[Mapping[str, Any]], timeout: float
    ) -> list[dict[str, Any]]:
        """Wait until each target's slot runs a new task; returns one report entry each."""
        ...


@runtime_checkable
class Services(Protocol):
    """Services with a spec the platform converges to: scale, update, roll back."""

    def service_id(self, stack: str, service: str) -> str: ...
    def inspect_service(self, sid: str) -> dict[str, Any]: ...
    def update_service(self, sid: str, mutate: Callable[[dict[str, Any]], None]) -> None: ...
    def rollback_service(self, sid: str) -> None: ...
    def update_state(self, sid: str) -> str: ...
    def running_task_ids(self, stack: str, service: str) -> list[str]: ...
    def new_running_tasks(
        self, stack: str, service: str, before: Iterable[str]
    ) -> list[dict[str, Any]]: ...
    def wait_running(
        self,
        stack: str,
        service: str,
        count: int,
        timeout: float,
        *,
        settled: Callable[[], bool] | None = None,
    ) -> None: ...
    def replicated_count(self, doc: Mapping[str, Any]) -> int: ...


@runtime_checkable
class Nodes(Protocol):
    """Machines the platform schedules tasks on, which a fault may drain or lose."""

    def require_nodes(self, fault_type: str, *, single_node_ok: bool = False) -> None:
        """Refuse a node fault the platform cannot take here (a single node: unless
        ``single_node_ok``, where emptying the only node touches this run's pods only)."""
        ...

    def task_node(self, task_id: str) -> str: ...
    def node_spec(self, node_id: str) -> dict[str, Any]: ...
    def set_availability(self, node_id: str, availability: str) -> None: ...
    def engine_pid(self, node_id: str) -> int: ...
    def freeze_engine(self, pid: int, *, frozen: bool) -> None: ...
    def engine_frozen(self, pid: int) -> bool: ...


PROTOCOLS: dict[str, type] = {
    TASK_REPLACEMENT: TaskReplacement,
    SERVICES: Services,
    NODES: Nodes,
}


def detect(platform: object) -> frozenset[str]:
    """The capabilities ``platform`` implements."""
    return frozenset(name for name, proto in PROTOCOLS.items() if isinstance(platform, proto))
