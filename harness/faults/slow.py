"""slow: cap the bandwidth of each connection the target opens (fault proxy)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.bandwidth import rate_bits
from harness.faults.proxied import ProxyFault, proxy_args
from harness.faults.registry import register
from harness.scenario.models import ProxiedFault, ProxyDirection
from harness.scenario.plan import PlannedFault

_RATE = r"^\d{1,12}(\.\d{1,6})?(bit|kbit|mbit|gbit)$"


class SlowFault(ProxiedFault):
    """Cap the bandwidth of each proxied connection (a slow link per connection)."""

    type: Literal["slow"]
    rate: str = Field(pattern=_RATE, description="per connection and direction, e.g. 256kbit")
    direction: ProxyDirection = Field(default="both", description="egress, ingress or both")


@register
class Slow(ProxyFault[SlowFault]):
    """A token bucket per connection and direction, unlike `bandwidth` (one per interface)."""

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = cls.spec_of(step)
        rate = rate_bits(spec.rate) / 8  # the proxy counts bytes
        return proxy_args("slow", ("--rate", f"{rate:.3f}"), ("--direction", spec.direction))
