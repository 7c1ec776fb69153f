"""http-error: answer a share of HTTP/1.1 requests with an error, unforwarded (fault proxy)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.proxied import ProxyFault, match_argv, proxy_args
from harness.faults.registry import register
from harness.scenario.models import HttpMatch
from harness.scenario.plan import PlannedFault


class HttpErrorFault(HttpMatch):
    """Answer a share of HTTP/1.1 requests with an error status (or a reset), unforwarded."""

    type: Literal["http-error"]
    status: int = Field(default=503, ge=400, le=599, description="status of the answer")
    action: Literal["status", "reset"] = Field(
        default="status", description="status: answer with `status`; reset: close with RST"
    )


@register
class HttpError(ProxyFault[HttpErrorFault]):
    """Hit requests get ``status`` (keep-alive kept) or a TCP reset; the rest pass through."""

    @classmethod
    def proxy_argv(cls, step: PlannedFault) -> list[str]:
        spec = cls.spec_of(step)
        options = ("--status", str(spec.status)), ("--action", spec.action)
        return [*proxy_args("http-error", *options), *match_argv(spec)]
