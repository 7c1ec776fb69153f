"""crash: kill the main process from the host pid namespace; the restart policy applies."""

from __future__ import annotations

from typing import Any

from harness.engine import containers, helpers
from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext, InstantFault, wait_restarted
from harness.faults.registry import register
from harness.scenario.models import CrashFault
from harness.scenario.plan import PlannedFault


@register
class Crash(InstantFault):
    """A short-lived ``--pid host`` helper signals the host pid.

    That works without hachaos running on the engine's host. The engine sees a
    process that died on its own, so ``restart: always/on-failure`` brings the
    container back; verify waits for that.
    """

    type = "crash"
    uses_helper = True

    @classmethod
    def spec_state(cls, step: PlannedFault) -> dict[str, Any]:
        assert isinstance(step.spec, CrashFault)
        return {"signal": step.spec.signal.removeprefix("SIG")}

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        for t in targets:
            policy = containers.inspect(t.id)["HostConfig"].get("RestartPolicy") or {}
            if policy.get("Name", "") in ("", "no"):
                raise FaultError(
                    f"crash: {t.name} has no restart policy, so it would stay down",
                    hint="add `restart: always` (or on-failure) to the service, "
                    "or use a `kill` fault with a window",
                )
        return super().extra_state(step, targets, ctx)

    def apply(self) -> None:
        pids: list[str] = []
        for t in self.targets:
            try:
                pid = containers.host_pid(t["id"])
            except TargetNotFound as exc:
                self.mark_gone(t, "apply", str(exc))
                continue
            if pid <= 0:
                raise FaultError(f"crash: {t['name']} is not running")
            pids.append(str(pid))
        if not pids:
            raise FaultError(f"every target of {self.state['key']} vanished")
        code, out = helpers.run_once(
            ["kill", "-s", self.state["signal"], *pids],
            run_id=self.ctx.run_id,
            project=self.ctx.project,
            pid_mode="host",
            # Root with CAP_KILL in the host pid namespace is enough; --privileged is
            # refused by some engines (rootless, nested) and is not needed.
            cap_add=["KILL"],
        )
        if code != 0:
            raise FaultError(f"crash: kill of host pids {pids} failed: {out.strip()}")

    def verify(self) -> None:
        wait_restarted(self, "verify", self.state["started"])
