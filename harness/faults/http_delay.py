"""http-delay: delay matching HTTP/1.1 requests or their responses (fault proxy)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.proxied import ProxyFault, match_argv, proxy_args, seconds
from harness.faults.registry import register
from harness.scenario.models import HttpMatch
from harness.scenario.plan import PlannedFault
from harness.scenario.units import Duration


class HttpDelayFault(HttpMatch):
    """Delay matching HTTP/1.1 requests (before forwarding) or their responses."""

    type: Literal["http-delay"]
    delay: Duration = Field(gt=0, le=600, description="added delay per hit request")
    on: Literal["request", "response"] = Field(
        default="request", description="delay the request or its response"
    )


@register
class HttpDelay(ProxyFault[HttpDelayFault]):
    """``on: request`` holds the request before forwarding; ``response`` holds the answer."""

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = cls.spec_of(step)
        options = ("--delay", seconds(spec.delay)), ("--on", spec.on)
        return [*proxy_args("http-delay", *options), *match_argv(spec)]
