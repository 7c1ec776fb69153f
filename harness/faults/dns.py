"""dns: make the target's DNS servers unreachable (Docker's embedded one, and port 53)."""

from __future__ import annotations

from typing import Literal

from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault, iptables_scripts
from harness.faults.registry import register
from harness.scenario.models import NetworkFault
from harness.scenario.plan import PlannedFault

RULES = ["-d 127.0.0.11 -j DROP", "-p udp --dport 53 -j DROP", "-p tcp --dport 53 -j DROP"]


class DnsFault(NetworkFault):
    """Make the target's DNS servers unreachable: Docker's embedded DNS (127.0.0.11) and
    any server on port 53 (a Kubernetes cluster DNS, the servers of resolv.conf)."""

    type: Literal["dns"]


@register
class Dns(NetnsFault[DnsFault]):
    """Drop everything to 127.0.0.11, and UDP and TCP to port 53 anywhere.

    Docker DNATs port 53 of 127.0.0.11 to a random port in the nat table, which runs
    before the filter table, so that rule matches the address, not the port. A pod's
    cluster DNS is a Service address whose DNAT happens on the node, outside the pod's
    netns: there the packet still goes to port 53.
    """

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        return iptables_scripts(tag, RULES, "outbound")
