"""node-drain: drain the Swarm node that runs the target task; active again on revert."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.engine.capabilities import NODES
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault


class NodeDrainFault(WindowedFault):
    """Drain the node that runs the target (Swarm, multi-node; Kubernetes: cordon and evict
    the run's pods, honouring PodDisruptionBudgets); active again on revert."""

    needs = frozenset({NODES})

    type: Literal["node-drain"]
    allow_single_node: bool = Field(
        default=False,
        description="Kubernetes: drain even the only node (it empties it of the run's pods "
        "until the revert); Swarm refuses a single node whatever this says",
    )


@register
class NodeDrain(Fault[NodeDrainFault]):
    """The platform moves the target's tasks off the node (Swarm: of every stack, so refused
    on a single node; Kubernetes: the run's pods only)."""

    @classmethod
    def check_support(cls, step: PlannedFault, ctx: FaultContext) -> None:
        ctx.nodes.require_nodes(cls.type, single_node_ok=cls.spec_of(step).allow_single_node)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        # nodes may have left since the preflight
        ctx.nodes.require_nodes(cls.type, single_node_ok=cls.spec_of(step).allow_single_node)
        return {"nodes": sorted({ctx.nodes.task_node(t.task) for t in targets if t.task})}

    def _availability(self, node: str) -> str:
        return str(self.ctx.nodes.node_spec(node)["Spec"].get("Availability"))

    def apply(self) -> None:
        for node in self.state["nodes"]:
            self.ctx.nodes.set_availability(node, "drain")

    def verify(self) -> None:
        for node in self.state["nodes"]:
            if (got := self._availability(node)) != "drain":
                raise FaultError(f"node-drain: node {node[:12]} is {got}, not drain")

    def revert(self) -> None:
        for node in self.state["nodes"]:
            if self._availability(node) == "drain":
                self.ctx.nodes.set_availability(node, "active")

    def verify_reverted(self) -> None:
        for node in self.state["nodes"]:
            if (got := self._availability(node)) != "active":
                raise FaultError(f"node-drain: node {node[:12]} is {got} after the revert")
