"""http-delay: delay matching HTTP/1.1 requests or their responses (fault proxy)."""

from __future__ import annotations

from harness.faults.http_error import match_argv
from harness.faults.proxied import ProxyFault, seconds
from harness.faults.registry import register
from harness.scenario.models import HttpDelayFault
from harness.scenario.plan import PlannedFault


@register
class HttpDelay(ProxyFault):
    """``on: request`` holds the request before forwarding; ``response`` holds the answer."""

    type = "http-delay"

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = step.spec
        assert isinstance(spec, HttpDelayFault)
        return [
            "--mode",
            "http-delay",
            "--delay",
            seconds(spec.delay),
            "--on",
            spec.on,
            *match_argv(spec),
        ]
