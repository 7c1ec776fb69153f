"""latency/jitter: tc netem delay where the kernel has sch_netem, else the fault proxy.

netem delays every packet leaving the target (the handshake too); the proxy
delays the data of the connections the target opens (to `to`, or all egress
TCP), per direction. `mechanism: auto` picks netem when the kernel has it and
the fault needs neither `to` nor an ingress direction; the choice is reported
at preflight and recorded in the fault events (`mechanism`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.bandwidth import qdisc_scripts
from harness.faults.base import FaultContext
from harness.faults.proxied import ProxyFault, proxy_args, seconds
from harness.faults.registry import register
from harness.scenario.models import ProxiedFault, ProxyDirection
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Duration

NETEM_MISSING = (
    "netem is not available on this engine's kernel (no sch_netem), so `mechanism: netem` "
    "cannot run here"
)
NETEM_HINT = (
    "use `mechanism: auto` (the fault proxy) or a kernel with sch_netem (modprobe sch_netem)"
)


class LatencyFault(ProxiedFault):
    """Add delay (and jitter) with tc netem where the kernel has it, else with the fault proxy."""

    type: Literal["latency"]
    delay: Duration = Field(gt=0, le=60, description="added delay")
    jitter: Duration = Field(default=0.0, le=60, description="random variation of the delay")
    direction: ProxyDirection = Field(
        default="egress",
        description="egress: data the target sends; ingress: data it receives (proxy only)",
    )
    mechanism: Literal["auto", "netem", "proxy"] = Field(
        default="auto",
        description="auto: netem where the kernel has it and the fault allows it, else proxy",
    )

    @model_validator(mode="after")
    def _netem_can(self) -> LatencyFault:
        if self.mechanism == "netem" and (self.direction != "egress" or self.to is not None):
            raise ValueError(
                "netem delays every egress packet: it takes neither `to` nor `direction`"
                " other than egress; use `mechanism: proxy` or `auto`"
            )
        return self

    def schedule_jitter(self) -> float:
        # `jitter` is the variation of the added delay: occurrences are never shifted.
        return 0.0


def choose_mechanism(spec: LatencyFault, netem: bool) -> str:
    """netem or proxy; raises FaultError when netem is required but missing."""
    if spec.mechanism == "netem" and not netem:
        raise FaultError(NETEM_MISSING, hint=NETEM_HINT)
    if spec.mechanism == "proxy" or spec.to is not None or spec.direction != "egress":
        return "proxy"
    return "netem" if netem else "proxy"


@register
class Latency(ProxyFault[LatencyFault]):
    """netem delay on every non-loopback interface, or the proxy's per-chunk delay."""

    @classmethod
    def mechanism(cls, step: PlannedFault, ctx: FaultContext) -> str | None:
        spec = cls.spec_of(step)
        # Only probe the kernel when the answer matters.
        netem = spec.mechanism != "proxy" and spec.to is None and spec.direction == "egress"
        if netem:
            netem = ctx.helpers.netem_available(run_id=ctx.run_id, project=ctx.project)
        return choose_mechanism(spec, netem)

    @classmethod
    def check_support(cls, step: PlannedFault, ctx: FaultContext) -> None:
        try:
            cls.mechanism(step, ctx)
        except FaultError as exc:
            raise FaultError(f"{exc.message} ({step.name})", hint=exc.hint) from exc

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = cls.spec_of(step)
        return proxy_args(
            "latency",
            ("--delay", seconds(spec.delay)),
            ("--jitter", seconds(spec.jitter)),
            ("--direction", spec.direction),
        )

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = cls.spec_of(step)
        if cls.mechanism(step, ctx) == "proxy":
            return super().scripts(step, target, tag, ctx)
        delay = f"delay {spec.delay * 1000:.3f}ms"
        if spec.jitter:
            delay += f" {spec.jitter * 1000:.3f}ms distribution normal"
        return qdisc_scripts(f"netem {delay}", "netem")
