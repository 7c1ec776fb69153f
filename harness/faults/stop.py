"""stop: graceful stop (SIGTERM, then SIGKILL after the grace period)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.faults.base import StoppedFault
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.units import Duration


class StopFault(WindowedFault):
    """Graceful stop (SIGTERM then SIGKILL); started again on revert."""

    type: Literal["stop"]
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


@register
class Stop(StoppedFault[StopFault]):
    """Stopped on apply, started on revert."""

    spec_state = ("grace",)
    down_timeout = 5.0

    def halt(self, target: dict[str, Any]) -> None:
        self.ctx.containers.stop(target["id"], self.state["grace"])
