"""The capacity search: ramp the rate up to the first bad step, then bisect.

A pure state machine. The driver asks :meth:`CapacitySearch.next_rate`, runs a
step at that rate and hands the verdict to :meth:`CapacitySearch.record`, until
``next_rate`` returns None. The search stops by itself:

- **converged**: ``first bad - last good <= resolution x first bad``;
- **max_rps**: the ramp reached ``max_rps`` and every step was good (the
  capacity is at least ``max_rps``);
- **generator**: a step was generator-bound (the capacity is at least the last
  good rate: beyond it the generator, not the stack, was measured);
- **none_good**: even the lowest rate tried was bad;
- **max_steps** / **max_time**: the budget ran out (no step starts that could
  not finish within ``max_time``; the clock is injected);
- **unrecovered**: after a bad step the stack did not serve again with no load
  (metastable): a next step would measure its backlog, not its capacity.

Before it stopped (an interrupted experiment), its result says **running**.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.analysis.capacity.step import Verdict

StopReason = Literal[
    "converged",
    "max_rps",
    "generator",
    "none_good",
    "max_steps",
    "max_time",
    "unrecovered",
    "running",
]
Phase = Literal["ramp", "narrow", "repeat", "peak"]  # peak: the N+1 confirmation step


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SearchLimits(_Frozen):
    """The search's settings (``experiment.capacity``), in requests/s and seconds."""

    start: float
    max_rps: float
    step: float | None = None  # added per ramp step; default ``start``
    factor: float | None = None  # multiplied per ramp step instead
    resolution: float = 0.05
    max_steps: int = 30
    max_time_s: float = 1800.0
    step_s: float = 13.0  # expected length of one step (load plus start and stop)
    repeat_bad: int = 0


class SearchStep(_Frozen):
    """One step as the search saw it."""

    rate: float
    verdict: Verdict
    phase: Phase


class SearchResult(_Frozen):
    """Where the search ended."""

    stop: StopReason
    capacity: float | None  # highest rate measured good (None: none was)
    first_bad: float | None  # lowest rate measured bad (None: none was)
    generator_rate: float | None  # the generator-bound step's rate
    steps: tuple[SearchStep, ...]

    @property
    def lower_bound_only(self) -> bool:
        """True when the real capacity may lie well above ``capacity``."""
        return self.stop in ("max_rps", "generator", "running") or self.first_bad is None


def round_rate(rate: float) -> float:
    """``rate`` to three significant figures (a bisection midpoint people can read)."""
    if rate <= 0:
        return 0.0
    digits = 2 - math.floor(math.log10(rate))
    return float(round(rate, digits))


class CapacitySearch:
    """Step rates up, then bisect between the last good and the first bad rate."""

    def __init__(self, limits: SearchLimits, now: Callable[[], float]) -> None:
        if not 0 < limits.start <= limits.max_rps:
            raise ValueError(f"start {limits.start:g} must lie in (0, max_rps {limits.max_rps:g}]")
        self.limits = limits
        self._now = now
        self._began = now()
        self._asked: float | None = None  # when the pending step was handed out
        self._longest = limits.step_s  # the longest step so far, for the time budget
        self._steps: list[SearchStep] = []
        self._good: float | None = None
        self._bad: float | None = None
        self._generator: float | None = None
        self._repeats_left = 0
        self._pending: float | None = None
        self._stop: StopReason | None = None

    # ------------------------------------------------------------------ driving
    def next_rate(self) -> float | None:
        """The rate of the next step, or None when the search is over."""
        if self._pending is not None:
            return self._pending
        if self._stop is None:
            self._stop = self._budget_spent()
        if self._stop is None:
            rate = self._repeat() or self._ramp() or self._narrow()
            if rate is not None:
                self._pending = rate
                self._asked = self._now()
                return rate
        return None

    def record(self, rate: float, verdict: Verdict) -> None:
        """The verdict of the step at ``rate`` (the one :meth:`next_rate` handed out)."""
        if rate != self._pending:
            raise ValueError(f"recorded rate {rate:g} is not the pending step {self._pending}")
        if self._asked is not None:
            self._longest = max(self._longest, self._now() - self._asked)
        phase = self.phase_of(rate)
        self._steps.append(SearchStep(rate=rate, verdict=verdict, phase=phase))
        self._pending = None
        if verdict == "generator":
            self._generator = rate
            self._stop = "generator"
        elif verdict == "good":
            self._good = rate if self._good is None else max(self._good, rate)
            self._repeats_left = 0
        elif phase != "repeat" and self.limits.repeat_bad:
            self._repeats_left = self.limits.repeat_bad
        else:
            self._repeats_left = max(self._repeats_left - 1, 0)
            if self._repeats_left == 0:
                self._bad = rate if self._bad is None else min(self._bad, rate)

    def unrecovered(self) -> None:
        """The stack did not recover from the last (bad) step: no step follows."""
        self._pending = None
        self._stop = "unrecovered"

    def result(self) -> SearchResult:
        """The outcome so far (final once :meth:`next_rate` returned None)."""
        return SearchResult(
            stop=self._stop or "running",
            capacity=self._good,
            first_bad=self._bad,
            generator_rate=self._generator,
            steps=tuple(self._steps),
        )

    # ------------------------------------------------------------------ rules
    def phase_of(self, rate: float) -> Phase:
        """The phase the step at ``rate`` (the pending one) is recorded under."""
        if self._steps and self._steps[-1].rate == rate and self._steps[-1].verdict == "bad":
            return "repeat"
        return "ramp" if self._bad is None and not self._repeats_left else "narrow"

    def _budget_spent(self) -> StopReason | None:
        if len(self._steps) >= self.limits.max_steps:
            return "max_steps"
        elapsed = self._now() - self._began
        if elapsed + self._longest > self.limits.max_time_s:
            return "max_time"
        return None

    def _repeat(self) -> float | None:
        if self._repeats_left and self._steps and self._steps[-1].verdict == "bad":
            return self._steps[-1].rate
        return None

    def _ramp(self) -> float | None:
        if self._bad is not None:
            return None
        if not self._steps:
            return self.limits.start
        last = self._steps[-1].rate
        if last >= self.limits.max_rps:
            self._stop = "max_rps"
            return None
        if self.limits.factor is not None:
            nxt = last * self.limits.factor
        else:
            nxt = last + (self.limits.step or self.limits.start)
        return min(round_rate(nxt), self.limits.max_rps)

    def _narrow(self) -> float | None:
        if self._stop is not None or self._bad is None:
            return None
        low, high = self._good or 0.0, self._bad
        if self._good is None and high <= self.limits.start * self.limits.resolution:
            self._stop = "none_good"
            return None
        if high - low <= self.limits.resolution * high:
            self._stop = "converged"
            return None
        mid = round_rate((low + high) / 2)
        if not low < mid < high:
            self._stop = "converged"
            return None
        return mid
