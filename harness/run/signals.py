"""Turn SIGINT, SIGTERM, SIGHUP and SIGQUIT into one ``Interrupted``; protect cleanup.

The first signal raises ``Interrupted`` in the main thread so that the run
unwinds into its ``finally`` blocks (revert every fault, tear down). Signals
that arrive while cleanup runs are recorded but never abort it: skipping a
rollback after Ctrl-C is exactly what a chaos tool must not do. SIGHUP (the SSH
session dropped) and SIGQUIT (Ctrl-\\) would otherwise end the process on the
spot, faults still applied.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from harness.errors import Interrupted

_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_log = logging.getLogger(__name__)


class SignalGuard:
    """Context manager that installs the handlers and restores the old ones on exit."""

    def __init__(self, on_signal: Callable[[int, bool], None] | None = None) -> None:
        self._on_signal = on_signal
        self._previous: dict[int, Any] = {}
        self._cleaning = False
        self.received: int | None = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if self._on_signal is not None:
            try:
                self._on_signal(signum, self._cleaning)
            except Exception:  # a broken notice must not abort what the signal interrupts
                _log.warning("signal callback failed", exc_info=True)
        if first and not self._cleaning:
            raise Interrupted(signum=signum)

    def cleaning(self) -> None:
        """From now on signals no longer raise: cleanup must run to the end."""
        self._cleaning = True

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in _HANDLED:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
