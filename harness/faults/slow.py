"""slow: cap the bandwidth of each connection the target opens (fault proxy)."""

from __future__ import annotations

from harness.faults.bandwidth import rate_bits
from harness.faults.proxied import ProxyFault
from harness.faults.registry import register
from harness.scenario.models import SlowFault
from harness.scenario.plan import PlannedFault


@register
class Slow(ProxyFault):
    """A token bucket per connection and direction, unlike `bandwidth` (one per interface)."""

    type = "slow"

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = step.spec
        assert isinstance(spec, SlowFault)
        rate = rate_bits(spec.rate) / 8  # the proxy counts bytes
        return ["--mode", "slow", "--rate", f"{rate:.3f}", "--direction", spec.direction]
