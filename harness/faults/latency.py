"""latency/jitter: tc netem delay where the kernel has sch_netem, else the fault proxy.

netem delays every packet leaving the target (the handshake too); the proxy
delays the data of the connections the target opens (to `to`, or all egress
TCP), per direction. `mechanism: auto` picks netem when the kernel has it and
the fault needs neither `to` nor an ingress direction; the choice is reported
at preflight and recorded in the fault events (`mechanism`).
"""

from __future__ import annotations

from harness.engine import helpers
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.bandwidth import qdisc_scripts
from harness.faults.base import FaultContext
from harness.faults.proxied import ProxyFault, seconds
from harness.faults.registry import register
from harness.scenario.models import LatencyFault
from harness.scenario.plan import PlannedFault

NETEM_MISSING = (
    "netem is not available on this engine's kernel (no sch_netem), so `mechanism: netem` "
    "cannot run here"
)
NETEM_HINT = (
    "use `mechanism: auto` (the fault proxy) or a kernel with sch_netem (modprobe sch_netem)"
)


def choose_mechanism(spec: LatencyFault, netem: bool) -> str:
    """netem or proxy; raises FaultError when netem is required but missing."""
    if spec.mechanism == "netem" and not netem:
        raise FaultError(NETEM_MISSING, hint=NETEM_HINT)
    if spec.mechanism == "proxy" or spec.to is not None or spec.direction != "egress":
        return "proxy"
    return "netem" if netem else "proxy"


@register
class Latency(ProxyFault):
    """netem delay on every non-loopback interface, or the proxy's per-chunk delay."""

    type = "latency"

    @classmethod
    def mechanism(cls, step: PlannedFault, ctx: FaultContext) -> str | None:
        spec = step.spec
        assert isinstance(spec, LatencyFault)
        # Only probe the kernel when the answer matters.
        netem = spec.mechanism != "proxy" and spec.to is None and spec.direction == "egress"
        if netem:
            netem = helpers.netem_available(run_id=ctx.run_id, project=ctx.project)
        return choose_mechanism(spec, netem)

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        try:
            cls.mechanism(step, ctx)
        except FaultError as exc:
            raise FaultError(f"{exc.message} ({step.name})", hint=exc.hint) from exc

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = step.spec
        assert isinstance(spec, LatencyFault)
        return [
            "--mode",
            "latency",
            "--delay",
            seconds(spec.delay),
            "--jitter",
            seconds(spec.jitter),
            "--direction",
            spec.direction,
        ]

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = step.spec
        assert isinstance(spec, LatencyFault)
        if cls.mechanism(step, ctx) == "proxy":
            return super().scripts(step, target, tag, ctx)
        delay = f"delay {spec.delay * 1000:.3f}ms"
        if spec.jitter:
            delay += f" {spec.jitter * 1000:.3f}ms distribution normal"
        return qdisc_scripts(f"netem {delay}", "netem")
