"""rolling-restart: restart replicas one by one with a gap (instant, self-healing)."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from harness.errors import FaultError, TargetNotFound
from harness.faults.base import InstantFault, wait_restarted
from harness.faults.registry import register
from harness.scenario.models import FaultBase
from harness.scenario.units import Duration


class RollingRestartFault(FaultBase):
    """Restart the chosen replicas one by one with a gap (instant, self-healing)."""

    instant = True

    type: Literal["rolling-restart"]
    gap: Duration = Field(default=5.0, description="pause between two restarts")
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


@register
class RollingRestart(InstantFault[RollingRestartFault]):
    """Each replica is restarted and seen running before the gap to the next starts."""

    spec_state = ("gap", "grace")

    def apply(self) -> None:
        live = self.targets
        for i, t in enumerate(live):
            if i:
                time.sleep(self.state["gap"])

            def one(x: dict[str, Any]) -> None:
                self.ctx.containers.restart(x["id"], self.state["grace"])
                got = self.ctx.containers.wait_status(x["id"], {"running"}, timeout=30)
                if got != "running":
                    raise FaultError(f"rolling-restart: {x['name']} is {got} after restart")

            self.each_one("apply", t, one)
        if not self.targets:
            raise FaultError(f"every target of {self.state['key']} vanished")

    def each_one(self, phase: str, t: dict[str, Any], fn: Any) -> None:
        """``fn(t)`` with vanished-target handling."""
        try:
            fn(t)
        except TargetNotFound as exc:
            self.mark_gone(t, phase, str(exc))

    def verify(self) -> None:
        wait_restarted(self, "verify", self.state["started"])
