"""service-scale: set a Swarm service's replica count for the window, then set it back."""

from __future__ import annotations

from typing import Any

from harness.engine import swarm
from harness.engine.containers import Target
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import ServiceScaleFault
from harness.scenario.plan import PlannedFault

_WAIT = 90.0  # s for the tasks to stop or to start (and pass their health checks)


@register
class ServiceScale(Fault):
    """Scaled through the service's spec, so Swarm itself stops or starts the tasks.

    The revert sets the original count back only while the count is still the
    one this fault set: a later change by someone else is left as it is.
    """

    type = "service-scale"

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        swarm.require_swarm(ctx.engine, cls.type)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        spec = step.spec
        assert isinstance(spec, ServiceScaleFault)
        sid = swarm.service_id(ctx.project, step.service)
        return {
            "service_id": sid,
            "service": step.service,
            "replicas": spec.replicas,
            "original": swarm.replicated_count(swarm.inspect_service(sid)),
            "tasks_before": swarm.running_task_ids(ctx.project, step.service),
        }

    def _set(self, count: int) -> None:
        def mutate(spec: dict[str, Any]) -> None:
            spec["Mode"]["Replicated"]["Replicas"] = count

        swarm.update_service(self.state["service_id"], mutate)

    def _current(self) -> int:
        return swarm.replicated_count(swarm.inspect_service(self.state["service_id"]))

    def apply(self) -> None:
        self._set(self.state["replicas"])

    def verify(self) -> None:
        swarm.wait_running(self.ctx.project, self.state["service"], self.state["replicas"], _WAIT)

    def revert(self) -> None:
        if self._current() == self.state["replicas"]:
            self._set(self.state["original"])

    def verify_reverted(self) -> None:
        swarm.wait_running(self.ctx.project, self.state["service"], self._current(), _WAIT)
        self.state["replaced"] = swarm.new_running_tasks(
            self.ctx.project, self.state["service"], self.state["tasks_before"]
        )
