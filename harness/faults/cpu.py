"""cpu: throttle with the engine's CPU quota; the original limits come back on revert."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import Fault, FaultContext
from harness.faults.registry import register
from harness.scenario.models import WindowedFault
from harness.scenario.plan import PlannedFault

PERIOD = 100_000  # µs, the CFS default


def throttle(original: dict[str, int], cpus: float) -> dict[str, int]:
    """Update body for a CPU limit of ``cpus`` cores.

    A container created with ``cpus:`` (NanoCpus) refuses quota updates and vice
    versa, so the limit is expressed the way the container already uses.
    """
    if original["NanoCpus"] > 0:
        return {"NanoCpus": int(cpus * 1e9)}
    return {"CpuPeriod": PERIOD, "CpuQuota": int(cpus * PERIOD)}


def restore(original: dict[str, int]) -> dict[str, int]:
    """Update body that restores the original limits (-1 quota = unlimited)."""
    if original["NanoCpus"] > 0:
        return {"NanoCpus": original["NanoCpus"]}
    return {
        "CpuPeriod": original["CpuPeriod"] or PERIOD,
        "CpuQuota": original["CpuQuota"] if original["CpuQuota"] > 0 else -1,
    }


def effective(limits: dict[str, int]) -> float:
    """Cores allowed by HostConfig limits; 0.0 means unlimited."""
    if limits["NanoCpus"] > 0:
        return limits["NanoCpus"] / 1e9
    if limits["CpuQuota"] > 0:
        return limits["CpuQuota"] / (limits["CpuPeriod"] or PERIOD)
    return 0.0


class CpuFault(WindowedFault):
    """Throttle with the engine's CPU quota."""

    type: Literal["cpu"]
    cpus: float = Field(gt=0, le=1024, description="CPU limit, e.g. 0.1 for a tenth of a core")


@register
class Cpu(Fault[CpuFault]):
    """HostConfig CPU limits are checked after apply and after revert."""

    spec_state = ("cpus",)

    @classmethod
    def extra_state(
        cls, step: PlannedFault, targets: list[Target], ctx: FaultContext
    ) -> dict[str, Any]:
        original = {t.id: ctx.containers.cpu_limits(t.id) for t in targets}
        return {**super().extra_state(step, targets, ctx), "original": original}

    def apply(self) -> None:
        self.each(
            "apply",
            lambda t: self.ctx.containers.update_resources(
                t["id"], throttle(self.state["original"][t["id"]], self.state["cpus"])
            ),
        )

    def verify(self) -> None:
        def check(t: dict[str, Any]) -> None:
            got = effective(self.ctx.containers.cpu_limits(t["id"]))
            if abs(got - self.state["cpus"]) > 0.001:
                raise FaultError(f"cpu: {t['name']} allows {got} cores, not {self.state['cpus']}")

        self.each("verify", check)

    def revert(self) -> None:
        self.each(
            "revert",
            lambda t: self.ctx.containers.update_resources(
                t["id"], restore(self.state["original"][t["id"]])
            ),
        )

    def verify_reverted(self) -> None:
        def check(t: dict[str, Any]) -> None:
            got = effective(self.ctx.containers.cpu_limits(t["id"]))
            want = effective(self.state["original"][t["id"]])
            if abs(got - want) > 0.001:
                raise FaultError(f"cpu: {t['name']} allows {got} cores, expected {want or 'any'}")

        self.each("revert", check)
