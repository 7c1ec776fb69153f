"""A clock for fault unit tests: nothing sleeps, every nap is recorded.

Without ``monos`` its monotonic time starts at 0 and moves only by the naps; with
``monos`` each ``mono()`` reading is the next value given (the test scripts when
each look at the clock happens).
"""

from __future__ import annotations

from collections.abc import Iterable


class ScriptedClock:
    def __init__(self, monos: Iterable[float] | None = None) -> None:
        self._monos = iter(monos) if monos is not None else None
        self.t = 0.0
        self.naps: list[float] = []

    def wall(self) -> float:
        return 1_700_000_000.0 + self.t

    def mono(self) -> float:
        return next(self._monos) if self._monos is not None else self.t

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.t += seconds
