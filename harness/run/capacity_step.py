"""One load step of a capacity search against a deployed stack, and the next one spawned early.

A step is one open-model load of ``settle + hold + drain`` seconds at one rate:

- ``settle``: the stack takes the new rate; not measured;
- ``hold``: the measured window (arrivals *scheduled* in it);
- ``drain``: the same rate again (so the window's last requests meet the same
  conditions) for as long as a request may take (``load.timeout``), so that every
  request of the window has finished or timed out before the load stops.

Locust's children take seconds to import, so the next step's load is spawned as
soon as this step's window has closed; it waits at its start gate (see
:mod:`harness.load.gate`) until the search has chosen its rate.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.analysis.capacity.document import StepRecord
from harness.analysis.capacity.search import Phase
from harness.analysis.capacity.slo import StepSlo
from harness.analysis.capacity.step import GeneratorHealth, judge_step, measure_step_file
from harness.clock import Clock
from harness.errors import LoadError
from harness.load.driver import LoadDriver, LoadPlan
from harness.scenario.models import Load

_log = logging.getLogger(__name__)


def host_load() -> float | None:
    """The 1-minute load average (how busy the shared machine was), None where unknown."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


PRESPAWN_AFTER_S = 0.5  # after the window closes: the imports never overlap a measurement
POLL_S = 0.25


@dataclass(frozen=True)
class StepSettings:
    """What every step of one search shares."""

    target_url: str
    load: Load  # the scenario's workload, open model
    locustfile: Path | None
    workers: int
    seed: int
    run_id: str
    settle: float
    hold: float
    slo: StepSlo

    @property
    def drain(self) -> float:
        return self.load.timeout

    @property
    def total(self) -> float:
        return self.settle + self.hold + self.drain


@dataclass
class StepRunner:
    """Runs the steps of one search, one after the other, into ``folder/NN/``."""

    settings: StepSettings
    folder: Path
    root: Path  # the experiment folder, which StepRecord.samples is relative to
    clock: Clock
    driver_for: Callable[[LoadPlan], LoadDriver] = LoadDriver
    on_tick: Callable[[str], None] = lambda _message: None
    _next: LoadDriver | None = field(default=None, init=False)
    _count: int = field(default=0, init=False)
    _running: LoadDriver | None = field(default=None, init=False)

    def _spawn(self, index: int) -> LoadDriver:
        s = self.settings
        plan = LoadPlan(
            target_url="",
            load=s.load,
            total_seconds=s.total,
            seed=s.seed + index,
            out_dir=self.folder / f"{index:02d}",
            locustfile=s.locustfile,
            workers=s.workers,
            run_id=s.run_id,
        )
        driver = self.driver_for(plan)
        driver.prespawn()
        return driver

    def run(self, rate: float, phase: Phase, *, rested_s: float = 0.0) -> StepRecord:
        """Offer ``rate`` for one step and judge it; the load is stopped on every exit path.
        ``rested_s``: how long the stack had no load before it (recorded)."""
        self._count += 1
        index = self._count
        driver = self._next or self._spawn(index)
        self._next = None
        self._running = driver
        started = self.clock.wall()
        try:
            driver.start(self.settings.target_url, rps=rate)
            t0 = driver.schedule_t0
            if t0 is None:
                raise LoadError("the load started without a schedule start")
            window = (t0 + self.settings.settle, t0 + self.settings.settle + self.settings.hold)
            self._wait(driver, window[1] + PRESPAWN_AFTER_S, f"step {index} at {rate:g}/s")
            self._next = self._spawn(index + 1)
            self._wait(driver, t0 + self.settings.total, f"step {index}: draining")
            result = driver.stop()
        except BaseException:
            self._running = None
            self._end_quietly(driver)  # never hides what is unwinding (a signal, an error)
            raise
        self._running = None
        driver.close()
        measure = measure_step_file(
            result.samples_path,
            math.floor(window[0] * 1e6),
            math.floor(window[1] * 1e6),
            rate,
            self.settings.slo.percentiles(),
        )
        health = GeneratorHealth(
            workers=result.workers,
            cpu_max=result.worker_cpu_max,
            saturated=result.generator_saturated,
            host_load=host_load(),
        )
        return StepRecord(
            index=index,
            rate=rate,
            phase=phase,
            started_wall=started,
            took_s=self.clock.wall() - started,
            samples=str(result.samples_path.relative_to(self.root)),
            measure=measure,
            generator=health,
            verdict=judge_step(measure, self.settings.slo, health),
            rested_s=rested_s,
        )

    def _wait(self, driver: LoadDriver, until_wall: float, what: str) -> None:
        """Sleep until ``until_wall``; a load child that died ends the step (LoadError)."""
        while (left := until_wall - self.clock.wall()) > 0:
            if driver.stopped_child() is not None:
                raise LoadError(
                    f"the load generator stopped during {what}: {driver.stopped_child()}",
                    hint="see the Locust logs in the step's folder (samples/logs/*.log)",
                )
            self.on_tick(what)
            self.clock.sleep(min(left, POLL_S))

    @staticmethod
    def _end_quietly(driver: LoadDriver) -> None:
        """Stop (idempotent) and reap a step's load; a failure here is logged, not raised."""
        try:
            try:
                driver.stop()
            finally:
                driver.close()
        except Exception:
            _log.warning("stopping a capacity step's load failed", exc_info=True)

    def close(self) -> None:
        """End the spawned-ahead load that no step used, and a step interrupted mid-way."""
        running, self._running = self._running, None
        if running is not None:
            self._end_quietly(running)
        spare, self._next = self._next, None
        if spare is not None:
            spare.abandon()
