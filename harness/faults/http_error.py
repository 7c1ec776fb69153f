"""http-error: answer a share of HTTP/1.1 requests with an error, unforwarded (fault proxy)."""

from __future__ import annotations

from harness.faults.proxied import ProxyFault
from harness.faults.registry import register
from harness.scenario.models import HttpErrorFault, HttpMatch
from harness.scenario.plan import PlannedFault


def match_argv(spec: HttpMatch) -> list[str]:
    """The proxy's request filter: share, method and path prefix."""
    argv = ["--fraction", f"{spec.percent:.6f}", "--path-prefix", spec.path_prefix]
    if spec.method:
        argv += ["--method", spec.method]
    return argv


@register
class HttpError(ProxyFault):
    """Hit requests get ``status`` (keep-alive kept) or a TCP reset; the rest pass through."""

    type = "http-error"

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = step.spec
        assert isinstance(spec, HttpErrorFault)
        return [
            "--mode",
            "http-error",
            "--status",
            str(spec.status),
            "--action",
            spec.action,
            *match_argv(spec),
        ]
