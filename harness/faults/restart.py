"""restart: restart the targets through the engine (instant, self-healing)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.base import InstantFault, wait_restarted
from harness.faults.registry import register
from harness.scenario.models import FaultBase
from harness.scenario.units import Duration


class RestartFault(FaultBase):
    """Restart the containers through the engine (instant)."""

    instant = True

    type: Literal["restart"]
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


@register
class Restart(InstantFault[RestartFault]):
    """All targets restart at once; verify waits until each started again."""

    spec_state = ("grace",)

    def apply(self) -> None:
        self.each("apply", lambda t: self.ctx.containers.restart(t["id"], self.state["grace"]))

    def verify(self) -> None:
        wait_restarted(self, "verify", self.state["started"])
