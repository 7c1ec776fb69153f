"""bandwidth: limit egress with a tc tbf qdisc on every interface but lo."""

from __future__ import annotations

import re
import shlex
from typing import Literal

from pydantic import Field

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults.base import FaultContext
from harness.faults.netns import NetnsFault
from harness.faults.registry import register
from harness.scenario.models import NetworkFault
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Rate

_UNITS = {"bit": 1, "kbit": 1_000, "mbit": 1_000_000, "gbit": 1_000_000_000}
IFACES = "$(ls /sys/class/net | grep -v '^lo$')"


def rate_bits(rate: str) -> float:
    """Bits per second of a tc rate such as ``1mbit``; FaultError for anything else."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)", rate)
    if not m:  # only reached by specs that skipped validation
        raise FaultError(f"refusing rate {rate!r}: expected e.g. 256kbit or 1mbit")
    return float(m.group(1)) * _UNITS[m.group(2)]


def qdisc_scripts(qdisc: str, kind: str) -> dict[str, str]:
    """Root qdisc on every non-loopback interface, and its checks."""
    show = f"tc qdisc show dev $d | grep -q ' {kind} '"
    return {
        "apply": f"for d in {IFACES}; do tc qdisc replace dev $d root {qdisc}; done",
        "revert": f"for d in {IFACES}; do tc qdisc del dev $d root 2>/dev/null; done; true",
        "present": f"for d in {IFACES}; do {show} || exit 1; done",
        "absent": f"for d in {IFACES}; do {show} && exit 1; done; true",
    }


class BandwidthFault(NetworkFault):
    """Limit egress bandwidth with tc tbf."""

    type: Literal["bandwidth"]
    rate: Rate = Field(
        max_length=32, pattern=r"^\d+(\.\d+)?(bit|kbit|mbit|gbit)$", description="e.g. 1mbit"
    )


@register
class Bandwidth(NetnsFault[BandwidthFault]):
    """tbf with a burst of at least 20 ms of traffic (tbf needs burst >= rate/HZ)."""

    @classmethod
    def scripts(
        cls, step: PlannedFault, target: Target, tag: str, ctx: FaultContext
    ) -> dict[str, str]:
        spec = cls.spec_of(step)
        burst = max(4096, int(rate_bits(spec.rate) / 8 / 50))
        rate = shlex.quote(spec.rate)
        return qdisc_scripts(f"tbf rate {rate} burst {burst} latency 400ms", "tbf")
