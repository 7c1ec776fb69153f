"""scale: remove the selected replicas, then recreate them from their own config."""

from __future__ import annotations

from typing import Any, Literal

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault


def parked_name(name: str, tag: str) -> str:
    """Name of the never-started copy that keeps a removed replica's config."""
    return f"{name}-hachaos-parked-{tag}"


class ScaleFault(WindowedFault):
    """Remove the selected replicas, then recreate them."""

    type: Literal["scale"]


@register
class Scale(Fault[ScaleFault]):
    """Containers are really removed (their DNS names go away), not just stopped.

    Before removal each container is copied, never started, under a parked name
    (:func:`harness.engine.containers.park`); the revert recreates it under its
    own name from that copy, so compose still sees the same replica numbers. The
    journaled state names containers only: the configuration, environment and
    so secrets included, stays in the engine. A name that already exists at
    revert time (someone ran ``compose up``) is left alone, unless it was never
    started: that is a recreation cut short by a kill, and it is started.
    """

    @classmethod
    def plan(cls, step: PlannedFault, targets: list[Target], ctx: FaultContext) -> dict[str, Any]:
        state = super().plan(step, targets, ctx)
        # the parked names derive from the fault's random tag, so runs never clash
        state["parked"] = {t.id: parked_name(t.name, state["tag"]) for t in targets}
        return state

    def apply(self) -> None:
        def remove(t: dict[str, Any]) -> None:
            self.ctx.containers.park(t["id"], self.state["parked"][t["id"]])
            self.ctx.containers.remove(t["id"])

        self.each("apply", remove)

    def verify(self) -> None:
        for t in self.targets:
            if self.ctx.containers.exists(t["id"]):
                raise FaultError(f"scale: {t['name']} still exists")

    def revert(self) -> None:
        for t in self.state["targets"]:
            parked = self.state["parked"][t["id"]]
            if self.ctx.containers.exists(t["id"]):
                # never removed (crash between park and remove): the copy is not needed
                self._drop(parked)
            elif (existing := self.ctx.containers.find_by_name(t["name"])) is not None:
                if self.ctx.containers.status(existing) == "created":
                    # A revert cut short between create and start (hachaos or its
                    # cleanup was killed there): finish it rather than leave it down.
                    self.ctx.containers.start(existing)
                else:
                    self.ctx.on_gone(
                        t["name"], "revert", "a container with this name already exists"
                    )
                self._drop(parked)
            else:
                try:
                    self.ctx.containers.unpark(parked)
                except TargetNotFound as exc:
                    self.mark_gone(t, "revert", f"its parked copy is gone: {exc}")

    def _drop(self, parked: str) -> None:
        if self.ctx.containers.exists(parked):
            self.ctx.containers.remove(parked)

    def verify_reverted(self) -> None:
        for t in self.state["targets"]:
            if t["id"] in self.gone:
                continue
            new_id = self.ctx.containers.find_by_name(t["name"])
            got = (
                self.ctx.containers.wait_status(new_id, {"running"}, timeout=30)
                if new_id
                else "absent"
            )
            if got != "running":
                raise FaultError(f"scale: {t['name']} is {got} after recreation")
            if self.ctx.containers.exists(self.state["parked"][t["id"]]):
                raise FaultError(f"scale: the parked copy of {t['name']} was not removed")
