"""pause: freeze every process with the cgroup freezer; unpause on revert."""

from __future__ import annotations

from typing import Any, Literal

from harness.faults.base import Fault
from harness.faults.registry import register
from harness.scenario.models import WindowedFault


class PauseFault(WindowedFault):
    """Freeze every process with the cgroup freezer; unpaused on revert."""

    type: Literal["pause"]


@register
class Pause(Fault[PauseFault]):
    """Paused on apply, unpaused on revert."""

    def apply(self) -> None:
        self.each("apply", lambda t: self.ctx.containers.pause(t["id"]))

    def verify(self) -> None:
        self.wait_all("verify", {"paused"}, "paused", timeout=5)

    def revert(self) -> None:
        def thaw(t: dict[str, Any]) -> None:
            if self.ctx.containers.status(t["id"]) == "paused":
                self.ctx.containers.unpause(t["id"])

        self.each("revert", thaw)

    def verify_reverted(self) -> None:
        self.wait_all("revert", {"running"}, "running")
