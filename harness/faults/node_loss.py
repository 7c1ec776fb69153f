"""node-loss: freeze the engine of the Swarm node that runs the target task (SIGSTOP)."""

from __future__ import annotations

import time
from typing import Any

from harness.engine import swarm
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.plan import PlannedFault

_READY_WAIT = 60.0  # s for a thawed node to be `ready` again


@register
class NodeLoss(Fault):
    """To the managers the node stops answering, as if it were lost; Swarm reschedules its
    tasks elsewhere. Only an engine hachaos started (scripts/swarm-node labels its node with
    the engine's pid) is ever stopped, and SIGCONT undoes it exactly."""

    type = "node-loss"

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        swarm.require_swarm(ctx.engine, cls.type)
        swarm.require_nodes(cls.type)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        swarm.require_nodes(cls.type)
        nodes = sorted({swarm.task_node(t.task) for t in targets if t.task})
        return {"engines": {n: swarm.engine_pid(n) for n in nodes}}

    def apply(self) -> None:
        for pid in self.state["engines"].values():
            swarm.freeze_engine(pid, frozen=True)

    def verify(self) -> None:
        for node, pid in self.state["engines"].items():
            if not swarm.engine_frozen(pid):
                raise FaultError(f"node-loss: the engine of node {node[:12]} is not stopped")

    def revert(self) -> None:
        for pid in self.state["engines"].values():
            if swarm.engine_frozen(pid):
                swarm.freeze_engine(pid, frozen=False)

    def verify_reverted(self) -> None:
        deadline = time.monotonic() + _READY_WAIT
        for node in self.state["engines"]:
            while swarm.node_spec(node).get("Status", {}).get("State") != "ready":
                if time.monotonic() > deadline:
                    raise FaultError(f"node-loss: node {node[:12]} is not ready again")
                time.sleep(0.5)
