"""service-update: a rolling update of a Swarm service under load, following its update_config."""

from __future__ import annotations

from typing import Any

from harness.engine import swarm
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import ServiceUpdateFault
from harness.scenario.plan import PlannedFault

# UpdateStatus.State values that end an update, and those where Swarm gave up.
_DONE = {"", "completed", "rollback_completed"}
_STUCK = {"paused", "rollback_paused"}


def _env_dict(env: list[str]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in env)


@register
class ServiceUpdate(Fault):
    """Swarm replaces every task of the service, in the order its update_config says.

    Forced (no ``image``/``env``): nothing to undo, the revert waits until the
    update completed. With a change: the revert asks Swarm to roll back to the
    previous spec, but only while the spec is still the one this fault set
    (someone else's later update is never undone). The journal holds the names
    and values this fault sets, never the service's own environment.
    """

    type = "service-update"

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        swarm.require_swarm(ctx.engine, cls.type)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        spec = step.spec
        assert isinstance(spec, ServiceUpdateFault)
        sid = swarm.service_id(ctx.project, step.service)
        doc = swarm.inspect_service(sid)
        return {
            "service_id": sid,
            "service": step.service,
            "image": spec.image,
            "env": dict(spec.env),
            "timeout": spec.timeout,
            "force_before": int(doc["Spec"]["TaskTemplate"].get("ForceUpdate") or 0),
            "tasks_before": swarm.running_task_ids(ctx.project, step.service),
        }

    @property
    def changes(self) -> bool:
        return bool(self.state["image"] or self.state["env"])

    def _mutate(self, spec: dict[str, Any]) -> None:
        template = spec["TaskTemplate"]
        if not self.changes:
            template["ForceUpdate"] = self.state["force_before"] + 1
            return
        cs = template["ContainerSpec"]
        if self.state["image"]:
            cs["Image"] = self.state["image"]
        if self.state["env"]:
            env = {**_env_dict(cs.get("Env") or []), **self.state["env"]}
            cs["Env"] = [f"{k}={v}" for k, v in env.items()]

    def _ours(self) -> bool:
        """Whether the service's spec is still the one this fault set."""
        cs = swarm.inspect_service(self.state["service_id"])["Spec"]["TaskTemplate"]
        if not self.changes:
            return int(cs.get("ForceUpdate") or 0) > int(self.state["force_before"])
        container = cs["ContainerSpec"]
        env = _env_dict(container.get("Env") or [])
        image_ok = not self.state["image"] or container.get("Image") == self.state["image"]
        return bool(image_ok and all(env.get(k) == v for k, v in self.state["env"].items()))

    def apply(self) -> None:
        swarm.update_service(self.state["service_id"], self._mutate)

    def verify(self) -> None:
        if not self._ours():
            raise FaultError(f"service-update: {self.state['service']} did not take the update")

    def revert(self) -> None:
        if self.changes and self._ours():
            state = swarm.update_state(self.state["service_id"])
            if state not in ("rollback_started", "rollback_completed"):
                swarm.rollback_service(self.state["service_id"])

    def _settled(self) -> bool:
        state = swarm.update_state(self.state["service_id"])
        if state in _STUCK:
            raise FaultError(
                f"service-update: Swarm paused the update of {self.state['service']} ({state}): "
                "a new task failed, and update_config.failure_action is pause",
                hint=f"look at `docker service ps {self.ctx.project}_{self.state['service']}`",
            )
        return state in _DONE

    def verify_reverted(self) -> None:
        desired = swarm.replicated_count(swarm.inspect_service(self.state["service_id"]))
        swarm.wait_running(
            self.ctx.project,
            self.state["service"],
            desired,
            float(self.state["timeout"]),
            settled=self._settled,
        )
        self.state["replaced"] = swarm.new_running_tasks(
            self.ctx.project, self.state["service"], self.state["tasks_before"]
        )
