"""The orchestrator's sense of time: the clocks of :mod:`harness.clock`.

They live at the bottom of the package stack so that engine, fault and load
code can poll on the same injectable clock (``poll_until``); the run keeps
importing them from here.
"""

from __future__ import annotations

from harness.clock import REAL_CLOCK, Clock, FakeClock, RealClock

__all__ = ["REAL_CLOCK", "Clock", "FakeClock", "RealClock"]
