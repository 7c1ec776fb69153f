"""dns: make Docker's embedded DNS (127.0.0.11) unreachable for the target."""

from __future__ import annotations

from typing import Literal

from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault, iptables_scripts
from harness.faults.registry import register
from harness.scenario.models import NetworkFault
from harness.scenario.plan import PlannedFault


class DnsFault(NetworkFault):
    """Make Docker's embedded DNS (127.0.0.11) unreachable for the target."""

    type: Literal["dns"]


@register
class Dns(NetnsFault[DnsFault]):
    """Drop everything to 127.0.0.11.

    Docker DNATs port 53 there to a random port in the nat table, which runs
    before the filter table, so the rule matches the address, not the port.
    """

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        return iptables_scripts(tag, ["-d 127.0.0.11 -j DROP"], "outbound")
