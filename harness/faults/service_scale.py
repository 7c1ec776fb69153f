"""service-scale: set a Swarm service's replica count for the window, then set it back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.engine.capabilities import SERVICES
from harness.engine.containers import Target
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import MAX_REPLICAS, WindowedFault
from harness.scenario.plan import PlannedFault

_WAIT = 90.0  # s for the tasks to stop or to start (and pass their health checks)


class ServiceScaleFault(WindowedFault):
    """Swarm: scale the target's service to ``replicas`` for the window, then back."""

    needs = frozenset({SERVICES})

    type: Literal["service-scale"]
    replicas: int = Field(ge=0, le=MAX_REPLICAS, description="task count during the fault")


@register
class ServiceScale(Fault[ServiceScaleFault]):
    """Scaled through the service's spec, so Swarm itself stops or starts the tasks.

    The revert sets the original count back only while the count is still the
    one this fault set: a later change by someone else is left as it is.
    """

    spec_state = ("replicas",)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        sid = ctx.services.service_id(ctx.project, step.service)
        return {
            **super().extra_state(step, targets, ctx),
            "service_id": sid,
            "service": step.service,
            "original": ctx.services.replicated_count(ctx.services.inspect_service(sid)),
            "tasks_before": ctx.services.running_task_ids(ctx.project, step.service),
        }

    def _set(self, count: int) -> None:
        def mutate(spec: dict[str, Any]) -> None:
            spec["Mode"]["Replicated"]["Replicas"] = count

        self.ctx.services.update_service(self.state["service_id"], mutate)

    def _current(self) -> int:
        sw = self.ctx.services
        return sw.replicated_count(sw.inspect_service(self.state["service_id"]))

    def apply(self) -> None:
        self._set(self.state["replicas"])

    def verify(self) -> None:
        self.ctx.services.wait_running(
            self.ctx.project, self.state["service"], self.state["replicas"], _WAIT
        )

    def revert(self) -> None:
        if self._current() == self.state["replicas"]:
            self._set(self.state["original"])

    def verify_reverted(self) -> None:
        sw = self.ctx.services
        sw.wait_running(self.ctx.project, self.state["service"], self._current(), _WAIT)
        self.state["replaced"] = sw.new_running_tasks(
            self.ctx.project, self.state["service"], self.state["tasks_before"]
        )
