"""scale: remove the selected replicas, then recreate them from their own config."""

from __future__ import annotations

from typing import Any

from harness.engine import containers
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.plan import PlannedFault


@register
class Scale(Fault):
    """Containers are really removed (their DNS names go away), not just stopped.

    Each container's inspect document (Config, HostConfig, endpoints) is saved
    in the journal before removal and recreated under the same name on revert,
    so compose still sees the same replica numbers. A name that already exists
    at revert time (someone ran ``compose up``) is left alone.
    """

    type = "scale"

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        return {"snapshots": {t.id: containers.snapshot(t.id) for t in targets}}

    def apply(self) -> None:
        self.each("apply", lambda t: containers.remove(t["id"]))

    def verify(self) -> None:
        for t in self.targets:
            if containers.exists(t["id"]):
                raise FaultError(f"scale: {t['name']} still exists")

    def revert(self) -> None:
        for t in self.state["targets"]:
            snap = self.state["snapshots"][t["id"]]
            if containers.find_by_name(snap["name"]) is None:
                containers.recreate(snap)
            else:
                self.ctx.on_gone(t["name"], "revert", "a container with this name already exists")

    def verify_reverted(self) -> None:
        for t in self.state["targets"]:
            name = self.state["snapshots"][t["id"]]["name"]
            new_id = containers.find_by_name(name)
            got = containers.wait_status(new_id, {"running"}, timeout=30) if new_id else "absent"
            if got != "running":
                raise FaultError(f"scale: {name} is {got} after recreation")
