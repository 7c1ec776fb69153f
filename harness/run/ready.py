"""Wait until the stack's target answers HTTP 2xx."""

from __future__ import annotations

import urllib.error
import urllib.request

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.errors import EngineError


def wait_ready(
    url: str, *, timeout: float, interval: float = 0.5, clock: Clock = REAL_CLOCK
) -> float:
    """Poll ``url`` until it answers 2xx; return the seconds waited or raise EngineError."""
    start = clock.mono()
    last = "no answer yet"

    def answers() -> bool:
        nonlocal last
        try:
            with urllib.request.urlopen(url, timeout=2.0) as resp:
                if 200 <= resp.status < 300:
                    return True
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        return False

    if not poll_until(answers, timeout, interval, clock):
        raise EngineError(
            f"{url} did not answer 2xx within {timeout:.0f} s (last: {last})",
            hint="check stack.target and stack.ready_path, or raise stack.ready_timeout",
        )
    return clock.mono() - start
