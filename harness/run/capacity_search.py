"""Drive one capacity search on a deployed stack: steps chosen by the search, run by the runner.

With ``peak`` (the N+1 rate) and the faults held, a search that did not decide
whether ``peak`` is carried gets one more step at exactly ``peak``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from harness.analysis.capacity.document import Condition, SearchRecord, StepRecord, search_record
from harness.analysis.capacity.headroom import n_plus_1
from harness.analysis.capacity.search import CapacitySearch, SearchLimits, SearchStep
from harness.clock import Clock
from harness.run.capacity_recovery import Recovery
from harness.run.capacity_step import StepRunner

StepListener = Callable[[StepRecord, SearchRecord], None]  # the step, the search so far


def _ignore(_step: StepRecord, _so_far: SearchRecord) -> None:
    return None


def run_search(
    runner: StepRunner,
    limits: SearchLimits,
    condition: Condition,
    clock: Clock,
    *,
    faults: tuple[str, ...] = (),
    peak: float | None = None,
    rest: Callable[[], Recovery] | None = None,
    on_step: StepListener = _ignore,
) -> SearchRecord:
    """Run steps until the search stops by itself; the runner's spare load is ended.

    After a bad step the next one waits for ``rest`` (no load until the stack serves
    again: see :mod:`harness.run.capacity_recovery`); a stack that did not recover ends
    the search (``unrecovered``), as every later step would measure its backlog.
    """
    search = CapacitySearch(limits, clock.mono)
    began = clock.mono()
    steps: list[StepRecord] = []
    unrecovered_s: float | None = None

    def so_far() -> SearchRecord:
        return search_record(
            condition,
            search.result(),
            steps,
            faults=faults,
            goal_rps=limits.max_rps,
            cores=os.cpu_count() or 1,
            took_s=clock.mono() - began,
            unrecovered_s=unrecovered_s,
        )

    def done(step: StepRecord) -> None:
        steps.append(step)
        on_step(step, so_far())

    try:
        while (rate := search.next_rate()) is not None:
            rested = 0.0
            if rest is not None and steps and steps[-1].verdict.verdict == "bad":
                recovery = rest()
                rested = recovery.rested_s
                if not recovery.recovered:
                    unrecovered_s = rested
                    search.unrecovered()
                    break
            step = runner.run(rate, search.phase_of(rate), rested_s=rested)
            search.record(rate, step.verdict.verdict)
            done(step)
        # a stack that did not recover would fail the peak step whatever its capacity
        recovered = unrecovered_s is None
        if peak is not None and condition == "degraded" and recovered and _undecided(peak, steps):
            done(runner.run(peak, "peak"))
    finally:
        runner.close()
    return so_far()


def _undecided(peak: float, steps: list[StepRecord]) -> bool:
    judged = [SearchStep(rate=s.rate, verdict=s.verdict.verdict, phase=s.phase) for s in steps]
    return n_plus_1(peak, judged)[0] == "unknown"
