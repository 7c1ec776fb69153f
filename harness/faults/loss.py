"""loss: drop a random share of packets with iptables' statistic match."""

from __future__ import annotations

import shlex

from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault, iptables_scripts, peer_addresses
from harness.faults.registry import register
from harness.scenario.models import LossFault
from harness.scenario.plan import PlannedFault


@register
class Loss(NetnsFault):
    """Random drop towards peers, or of all non-loopback traffic."""

    type = "loss"

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = step.spec
        assert isinstance(spec, LossFault)
        stat = f"-m statistic --mode random --probability {spec.percent:.6f} -j DROP"
        if spec.peers:
            ips = peer_addresses(ctx.project, target, list(spec.peers))
            quoted = [shlex.quote(ip) for ip in ips]
            rules = [f"-s {ip} {stat}" for ip in quoted] + [f"-d {ip} {stat}" for ip in quoted]
        else:
            # Loopback (incl. Docker's DNS on 127.0.0.11) is left alone.
            rules = ["-s 127.0.0.0/8 -j RETURN", "-d 127.0.0.0/8 -j RETURN", stat]
        return iptables_scripts(tag, rules, spec.direction)
