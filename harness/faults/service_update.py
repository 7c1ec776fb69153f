"""service-update: a rolling update of a Swarm service under load, following its update_config."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from harness.engine.capabilities import SERVICES
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.base import MAX_LIST, MAX_TEXT
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Duration

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
IMAGE_PATTERN = r"^[a-z0-9][a-z0-9._/-]{0,199}(:[A-Za-z0-9._-]{1,128})?$"
# UpdateStatus.State values that end an update, and those where Swarm gave up.
_DONE = {"", "completed", "rollback_completed"}
_STUCK = {"paused", "rollback_paused"}


class ServiceUpdateFault(WindowedFault):
    """Swarm: a rolling update of the target's service under load, following its update_config.

    Without ``image``/``env`` it is a forced update (every task replaced by an
    identical one); with them, the service runs the change for the window and is
    rolled back to its own spec afterwards (a second rolling update).
    """

    needs = frozenset({SERVICES})

    type: Literal["service-update"]
    image: str | None = Field(
        default=None, pattern=IMAGE_PATTERN, description="image to update to (already built)"
    )
    env: dict[
        Annotated[str, Field(pattern=ENV_NAME_PATTERN)], Annotated[str, Field(max_length=MAX_TEXT)]
    ] = Field(default_factory=dict, max_length=MAX_LIST, description="variables to set")
    timeout: Duration = Field(
        default=120.0, le=900, description="how long the update (and its undo) may take"
    )


def _env_dict(env: list[str]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in env)


@register
class ServiceUpdate(Fault[ServiceUpdateFault]):
    """Swarm replaces every task of the service, in the order its update_config says.

    Forced (no ``image``/``env``): nothing to undo, the revert waits until the
    update completed. With a change: the revert asks Swarm to roll back to the
    previous spec, but only while the spec is still the one this fault set
    (someone else's later update is never undone). The journal holds the names
    and values this fault sets, never the service's own environment.
    """

    spec_state = ("image", "env", "timeout")

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        sid = ctx.services.service_id(ctx.project, step.service)
        doc = ctx.services.inspect_service(sid)
        return {
            **super().extra_state(step, targets, ctx),
            "service_id": sid,
            "service": step.service,
            "force_before": int(doc["Spec"]["TaskTemplate"].get("ForceUpdate") or 0),
            "tasks_before": ctx.services.running_task_ids(ctx.project, step.service),
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
        cs = self.ctx.services.inspect_service(self.state["service_id"])["Spec"]["TaskTemplate"]
        if not self.changes:
            return int(cs.get("ForceUpdate") or 0) > int(self.state["force_before"])
        container = cs["ContainerSpec"]
        env = _env_dict(container.get("Env") or [])
        image_ok = not self.state["image"] or container.get("Image") == self.state["image"]
        return bool(image_ok and all(env.get(k) == v for k, v in self.state["env"].items()))

    def apply(self) -> None:
        self.ctx.services.update_service(self.state["service_id"], self._mutate)

    def verify(self) -> None:
        if not self._ours():
            raise FaultError(f"service-update: {self.state['service']} did not take the update")

    def revert(self) -> None:
        if self.changes and self._ours():
            state = self.ctx.services.update_state(self.state["service_id"])
            if state not in ("rollback_started", "rollback_completed"):
                self.ctx.services.rollback_service(self.state["service_id"])

    def _settled(self) -> bool:
        state = self.ctx.services.update_state(self.state["service_id"])
        if state in _STUCK:
            raise FaultError(
                f"service-update: Swarm paused the update of {self.state['service']} ({state}): "
                "a new task failed, and update_config.failure_action is pause",
                hint=f"look at `docker service ps {self.ctx.project}_{self.state['service']}`",
            )
        return state in _DONE

    def verify_reverted(self) -> None:
        sw = self.ctx.services
        desired = sw.replicated_count(sw.inspect_service(self.state["service_id"]))
        sw.wait_running(
            self.ctx.project,
            self.state["service"],
            desired,
            float(self.state["timeout"]),
            settled=self._settled,
        )
        self.state["replaced"] = sw.new_running_tasks(
            self.ctx.project, self.state["service"], self.state["tasks_before"]
        )
