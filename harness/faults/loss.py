"""loss: drop a random share of packets with iptables' statistic match."""

from __future__ import annotations

import shlex
from typing import Annotated, Literal

from pydantic import Field

from harness.engine.containers import Target
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault, iptables_scripts, peer_addresses
from harness.faults.registry import register
from harness.scenario.base import MAX_LIST, MAX_NAME
from harness.scenario.models import Direction, NetworkFault
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Fraction


class LossFault(NetworkFault):
    """Drop a share of packets at random (iptables statistic)."""

    type: Literal["loss"]
    percent: Fraction = Field(description="share of packets dropped")
    peers: list[Annotated[str, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list, max_length=MAX_LIST, description="only towards these services"
    )
    direction: Direction = Field(default="both", description="both, outbound or inbound")


@register
class Loss(NetnsFault[LossFault]):
    """Random drop towards peers, or of all non-loopback traffic."""

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = cls.spec_of(step)
        stat = f"-m statistic --mode random --probability {spec.percent:.6f} -j DROP"
        if spec.peers:
            ips = peer_addresses(ctx, target, list(spec.peers))
            quoted = [shlex.quote(ip) for ip in ips]
            rules = [f"-s {ip} {stat}" for ip in quoted] + [f"-d {ip} {stat}" for ip in quoted]
        else:
            # Loopback (incl. Docker's DNS on 127.0.0.11) is left alone.
            rules = ["-s 127.0.0.0/8 -j RETURN", "-d 127.0.0.0/8 -j RETURN", stat]
        return iptables_scripts(tag, rules, spec.direction)
