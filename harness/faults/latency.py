"""latency/jitter: tc netem delay; fails the plan where the kernel has no sch_netem."""

from __future__ import annotations

from harness.engine import helpers
from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.bandwidth import qdisc_scripts
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault
from harness.faults.registry import register
from harness.scenario.models import LatencyFault
from harness.scenario.plan import PlannedFault

NETEM_MISSING = (
    "netem is not available on this engine's kernel (no sch_netem), so `latency` faults "
    "cannot run here"
)
NETEM_HINT = (
    "use bandwidth/loss faults instead, or run on a kernel with sch_netem (modprobe sch_netem)"
)


@register
class Latency(NetnsFault):
    """netem delay (with jitter) on every non-loopback interface."""

    type = "latency"

    @classmethod
    def preflight(cls, step: PlannedFault, ctx: FaultContext) -> None:
        if not helpers.netem_available(run_id=ctx.run_id, project=ctx.project):
            raise FaultError(f"{NETEM_MISSING} ({step.name})", hint=NETEM_HINT)

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = step.spec
        assert isinstance(spec, LatencyFault)
        delay = f"delay {spec.delay * 1000:.3f}ms"
        if spec.jitter:
            delay += f" {spec.jitter * 1000:.3f}ms distribution normal"
        return qdisc_scripts(f"netem {delay}", "netem")
