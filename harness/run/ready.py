"""Wait until the stack's target answers HTTP 2xx."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from harness.errors import EngineError


def wait_ready(url: str, *, timeout: float, interval: float = 0.5) -> float:
    """Poll ``url`` until it answers 2xx; return the seconds waited or raise EngineError."""
    start = time.monotonic()
    last = "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2.0) as resp:
                if 200 <= resp.status < 300:
                    return time.monotonic() - start
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() - start >= timeout:
            raise EngineError(
                f"{url} did not answer 2xx within {timeout:.0f} s (last: {last})",
                hint="check stack.target and stack.ready_path, or raise stack.ready_timeout",
            )
        time.sleep(interval)
