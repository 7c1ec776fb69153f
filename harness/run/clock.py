"""The orchestrator's sense of time, injectable so tests run on virtual time.

``RealClock`` is the default; ``FakeClock`` never waits: ``sleep`` advances its
virtual wall and monotonic time by exactly the requested amount, so a test can
assert *when* (in virtual seconds) and in which order things happened, however
loaded the machine is.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time (epoch s), monotonic time (s) and sleeping."""

    def wall(self) -> float: ...

    def mono(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    """The process's clocks: ``time.time``, ``time.monotonic``, ``time.sleep``."""

    def wall(self) -> float:
        return time.time()

    def mono(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class FakeClock:
    """Virtual time that moves only on ``sleep``/``advance``; thread-safe."""

    def __init__(self, wall: float = 1_700_000_000.0, mono: float = 1_000.0) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._mono = mono
        self.sleeps = 0  # how many times the code under test slept (a loop guard for tests)

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def mono(self) -> float:
        with self._lock:
            return self._mono

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        with self._lock:
            self.sleeps += 1
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        with self._lock:
            self._wall += seconds
            self._mono += seconds


REAL_CLOCK = RealClock()
