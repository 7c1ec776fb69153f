"""partition: drop traffic between the target and its peers (or everyone: isolate)."""

from __future__ import annotations

import shlex
from typing import Annotated, Literal

from pydantic import Field

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault, iptables_scripts, peer_addresses
from harness.faults.registry import register
from harness.scenario.base import MAX_LIST, MAX_NAME
from harness.scenario.models import Direction, NetworkFault
from harness.scenario.plan import PlannedFault


class PartitionFault(NetworkFault):
    """Drop traffic between the target and its peers with iptables in its netns."""

    type: Literal["partition"]
    peers: list[Annotated[str, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list,
        max_length=MAX_LIST,
        description="services on the other side; empty = isolate",
    )
    direction: Direction = Field(default="both", description="both, outbound or inbound")


@register
class Partition(NetnsFault[PartitionFault]):
    """iptables DROP of every peer replica's address on every shared network.

    ``both`` drops every packet; ``outbound`` stops the target from opening
    connections to its peers and ``inbound`` stops the peers from opening
    connections to it. With no peers the target is isolated from every other container of the
    project. The revert runs through ``docker exec`` in the helper, which needs
    no network, so isolation never blocks its own undo.
    """

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = cls.spec_of(step)
        ips = peer_addresses(ctx, target, list(spec.peers))
        if not ips:
            who = ", ".join(spec.peers) or "any other container"
            raise FaultError(
                f"partition: {target.name} shares no network with {who} in project {ctx.project}",
                hint="check `peers`: they must be services of the same compose project",
            )
        # One-way cuts drop new connections only: replies still flow, so the other
        # side can keep talking (packet-level one-way drop would break TCP both ways).
        match = "" if spec.direction == "both" else "-m conntrack --ctstate NEW "
        rules = [f"-s {shlex.quote(ip)} {match}-j DROP" for ip in ips]
        rules += [f"-d {shlex.quote(ip)} {match}-j DROP" for ip in ips]
        return iptables_scripts(tag, rules, spec.direction)
