"""node-loss: freeze the engine of the Swarm node that runs the target task (SIGSTOP)."""

from __future__ import annotations

from typing import Any, Literal

from harness.clock import poll_until
from harness.engine.capabilities import NODES
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault

_READY_WAIT = 60.0  # s for a thawed node to be `ready` again


class NodeLossFault(WindowedFault):
    """Swarm, multi-node: freeze the engine of the node that runs the target task (a node
    started by scripts/swarm-node); thawed on revert."""

    needs = frozenset({NODES})

    type: Literal["node-loss"]


@register
class NodeLoss(Fault[NodeLossFault]):
    """To the managers the node stops answering, as if it were lost; Swarm reschedules its
    tasks elsewhere. Only an engine hachaos started (scripts/swarm-node labels its node with
    the engine's pid) is ever stopped, and SIGCONT undoes it exactly."""

    @classmethod
    def check_support(cls, step: PlannedFault, ctx: FaultContext) -> None:
        ctx.nodes.require_nodes(cls.type)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        ctx.nodes.require_nodes(cls.type)
        nodes = sorted({ctx.nodes.task_node(t.task) for t in targets if t.task})
        return {"engines": {n: ctx.nodes.engine_pid(n) for n in nodes}}

    def apply(self) -> None:
        for pid in self.state["engines"].values():
            self.ctx.nodes.freeze_engine(pid, frozen=True)

    def verify(self) -> None:
        for node, pid in self.state["engines"].items():
            if not self.ctx.nodes.engine_frozen(pid):
                raise FaultError(f"node-loss: the engine of node {node[:12]} is not stopped")

    def revert(self) -> None:
        for pid in self.state["engines"].values():
            if self.ctx.nodes.engine_frozen(pid):
                self.ctx.nodes.freeze_engine(pid, frozen=False)

    def verify_reverted(self) -> None:
        waiting = ""  # the first node not ready yet

        def all_ready() -> bool:
            nonlocal waiting
            waiting = next((n for n in self.state["engines"] if not self._ready(n)), "")
            return not waiting

        if not poll_until(all_ready, _READY_WAIT, 0.5, self.ctx.clock):
            raise FaultError(f"node-loss: node {waiting[:12]} is not ready again")

    def _ready(self, node: str) -> bool:
        return bool(self.ctx.nodes.node_spec(node).get("Status", {}).get("State") == "ready")
