"""blackhole: accept the target's connections and never answer (fault proxy).

Unlike a partition's DROP, the connect succeeds at once: the client hangs on its
read timeout, as with a dependency that is up but stuck.
"""

from __future__ import annotations

from typing import Literal

from harness.faults.proxied import ProxyFault, proxy_args
from harness.faults.registry import register
from harness.scenario.models import ProxiedFault
from harness.scenario.plan import PlannedFault


class BlackholeFault(ProxiedFault):
    """Accept the target's connections and never answer (a hung dependency)."""

    type: Literal["blackhole"]


@register
class Blackhole(ProxyFault[BlackholeFault]):
    """The proxy swallows every byte and never connects upstream."""

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        return proxy_args("blackhole")
