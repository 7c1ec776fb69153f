"""Time, injectable so tests run on virtual time: a clock, and polling on it.

``RealClock`` is the default; ``FakeClock`` never waits: ``sleep`` advances its
virtual wall and monotonic time by exactly the requested amount, so a test can
assert *when* (in virtual seconds) and in which order things happened, however
loaded the machine is.

:func:`poll_until` is the one deadline loop of hachaos: engine, fault, load and
run code that waits for a condition calls it instead of writing its own loop.
It sits at the bottom of the package stack (it imports nothing of hachaos), so
every layer may use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


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


def poll_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float,
    clock: Clock = REAL_CLOCK,
) -> T:
    """Call ``predicate`` until it returns a truthy value or ``timeout`` seconds have passed.

    The boundaries, on ``clock.mono()`` (``t0`` when called, deadline ``t0 + timeout``):

    - the first try is at once, at ``t0``, with no sleep before it;
    - after each falsy try the clock is read again: when it is past the deadline
      (strictly: ``now > t0 + timeout``), polling ends; otherwise it sleeps
      ``interval`` and tries again. So a try made exactly at the deadline is
      followed by one more, and the last try is always made at or after the
      deadline: the predicate is never denied a look at the state the caller
      waited for;
    - the time the predicate itself takes counts against ``timeout``;
    - it returns the first truthy value, or, once polling ended, the last falsy
      one (the caller raises its own typed error, with what it saw last);
    - an exception from ``predicate`` ends polling at once and propagates.

    Bounded in count and time: ``interval`` must be positive and ``timeout`` not
    negative (ValueError), so on any clock at most ``timeout / interval + 2``
    tries are made.
    """
    if interval <= 0:
        raise ValueError(f"poll interval must be positive, not {interval}")
    if timeout < 0:
        raise ValueError(f"poll timeout must not be negative, not {timeout}")
    deadline = clock.mono() + timeout
    while not (value := predicate()):
        if clock.mono() > deadline:
            break
        clock.sleep(interval)
    return value
