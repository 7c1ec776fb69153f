"""blackhole: accept the target's connections and never answer (fault proxy).

Unlike a partition's DROP, the connect succeeds at once: the client hangs on its
read timeout, as with a dependency that is up but stuck.
"""

from __future__ import annotations

from harness.faults.proxied import ProxyFault
from harness.faults.registry import register
from harness.scenario.plan import PlannedFault


@register
class Blackhole(ProxyFault):
    """The proxy swallows every byte and never connects upstream."""

    type = "blackhole"

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        return ["--mode", "blackhole"]
