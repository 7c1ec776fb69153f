"""restart: restart the targets through the engine (instant, self-healing)."""

from __future__ import annotations

from typing import Any

from harness.engine import containers
from harness.faults.base import InstantFault, wait_restarted
from harness.faults.registry import register
from harness.scenario.models import RestartFault
from harness.scenario.plan import PlannedFault


@register
class Restart(InstantFault):
    """All targets restart at once; verify waits until each started again."""

    type = "restart"

    @classmethod
    def spec_state(cls, step: PlannedFault) -> dict[str, Any]:
        assert isinstance(step.spec, RestartFault)
        return {"grace": step.spec.grace}

    def apply(self) -> None:
        self.each("apply", lambda t: containers.restart(t["id"], self.state["grace"]))

    def verify(self) -> None:
        wait_restarted(self, "verify", self.state["started"])
