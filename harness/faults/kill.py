"""kill: a signal through the engine API; restart policies do not apply."""

from __future__ import annotations

from typing import Any

from harness.engine import containers, swarm
from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import KillFault
from harness.scenario.plan import PlannedFault

DOWN = {"exited", "dead"}
SWARM_REPLACE_TIMEOUT = 60.0  # s a swarm task's replacement may take to run (and be healthy)


def start_stopped(fault: Fault) -> None:
    """Start every target that is not running (the shared revert of kill and stop).

    A swarm task is never started again: Swarm replaces it with a new task, and
    a restarted old container would run beside it, unmanaged.
    """

    def up(t: dict[str, Any]) -> None:
        if not t.get("task") and containers.status(t["id"]) != "running":
            containers.start(t["id"])

    fault.each("revert", up)


def verify_up(fault: Fault) -> None:
    """Every container target runs again; every swarm task target has a running replacement
    (recorded in the state as ``replaced``: the new task and when it became running)."""
    tasks = [t for t in fault.targets if t.get("task")]
    plain = [t for t in fault.targets if not t.get("task")]
    limit = fault.ctx.verify_timeout
    for t in plain:
        try:
            got = containers.wait_status(t["id"], {"running"}, timeout=limit)
        except TargetNotFound as exc:
            fault.mark_gone(t, "revert", str(exc))
            continue
        if got != "running":
            raise FaultError(f"{t['name']} is {got}, expected running after {limit:.0f}s")
    if tasks:
        try:
            # A new task may take a while on a busy node (image, start, health check).
            fault.state["replaced"] = swarm.wait_replaced(
                fault.ctx.project, tasks, max(limit, SWARM_REPLACE_TIMEOUT)
            )
        except TargetNotFound as exc:  # the stack is gone: nothing left to bring back
            for t in tasks:
                fault.mark_gone(t, "revert", str(exc))


@register
class Kill(Fault):
    """The container stays down until the fault's restore starts it again."""

    type = "kill"
    namespaces = frozenset({"pid"})

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        assert isinstance(step.spec, KillFault)
        return {"signal": step.spec.signal}

    def apply(self) -> None:
        self.each("apply", lambda t: containers.kill(t["id"], self.state["signal"]))

    def verify(self) -> None:
        self.wait_all("verify", DOWN, "exited", timeout=10)

    def revert(self) -> None:
        start_stopped(self)

    def verify_reverted(self) -> None:
        verify_up(self)
