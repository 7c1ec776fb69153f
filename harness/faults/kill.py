"""kill: a signal through the engine API; restart policies do not apply."""

from __future__ import annotations

from typing import Any

from harness.engine import containers
from harness.engine.containers import Target
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import KillFault
from harness.scenario.plan import PlannedFault

DOWN = {"exited", "dead"}


def start_stopped(fault: Fault) -> None:
    """Start every target that is not running (the shared revert of kill and stop)."""

    def up(t: dict[str, Any]) -> None:
        if containers.status(t["id"]) != "running":
            containers.start(t["id"])

    fault.each("revert", up)


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
        self.wait_all("revert", {"running"}, "running")
