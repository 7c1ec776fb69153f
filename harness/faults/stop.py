"""stop: graceful stop (SIGTERM, then SIGKILL after the grace period)."""

from __future__ import annotations

from typing import Any

from harness.engine import containers
from harness.engine.containers import Target
from harness.faults.base import Fault, FaultContext
from harness.faults.kill import DOWN, start_stopped, verify_up
from harness.faults.registry import register
from harness.scenario.models import StopFault
from harness.scenario.plan import PlannedFault


@register
class Stop(Fault):
    """Stopped on apply, started on revert."""

    type = "stop"

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        assert isinstance(step.spec, StopFault)
        return {"grace": step.spec.grace}

    def apply(self) -> None:
        self.each("apply", lambda t: containers.stop(t["id"], self.state["grace"]))

    def verify(self) -> None:
        self.wait_all("verify", DOWN, "exited", timeout=5)

    def revert(self) -> None:
        start_stopped(self)

    def verify_reverted(self) -> None:
        verify_up(self)
