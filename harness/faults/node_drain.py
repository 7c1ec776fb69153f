"""node-drain: drain the Swarm node that runs the target task; active again on revert."""

from __future__ import annotations

from typing import Any

from harness.engine import swarm
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.plan import PlannedFault


@register
class NodeDrain(Fault):
    """Swarm moves every task off the node (of every stack: refused on a single node)."""

    type = "node-drain"

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        swarm.require_swarm(ctx.engine, cls.type)
        swarm.require_nodes(cls.type)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        swarm.require_nodes(cls.type)  # nodes may have left since the preflight
        nodes = sorted({swarm.task_node(t.task) for t in targets if t.task})
        return {"nodes": nodes}

    def apply(self) -> None:
        for node in self.state["nodes"]:
            swarm.set_availability(node, "drain")

    def verify(self) -> None:
        for node in self.state["nodes"]:
            got = swarm.node_spec(node)["Spec"].get("Availability")
            if got != "drain":
                raise FaultError(f"node-drain: node {node[:12]} is {got}, not drain")

    def revert(self) -> None:
        for node in self.state["nodes"]:
            if swarm.node_spec(node)["Spec"].get("Availability") == "drain":
                swarm.set_availability(node, "active")

    def verify_reverted(self) -> None:
        for node in self.state["nodes"]:
            got = swarm.node_spec(node)["Spec"].get("Availability")
            if got != "active":
                raise FaultError(f"node-drain: node {node[:12]} is {got} after the revert")
