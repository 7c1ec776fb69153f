"""kill: a signal through the engine API; restart policies do not apply."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.faults.base import StoppedFault
from harness.faults.registry import register
from harness.scenario.base import MAX_NAME
from harness.scenario.models import SIGNAL_PATTERN, WindowedFault


class KillFault(WindowedFault):
    """SIGKILL through the engine API; restart policies do not apply; started again on revert."""

    namespaces = frozenset({"pid"})

    type: Literal["kill"]
    signal: str = Field(
        default="SIGKILL",
        pattern=SIGNAL_PATTERN,
        max_length=MAX_NAME,
        description="signal sent through the engine",
    )


@register
class Kill(StoppedFault[KillFault]):
    """The container stays down until the fault's restore starts it again."""

    spec_state = ("signal",)

    def halt(self, target: dict[str, Any]) -> None:
        self.ctx.containers.kill(target["id"], self.state["signal"])
