"""One run's state in one place, and the collaborators it works with.

Like Locust's ``Environment``: the deployment, the scheduler, the teardown and
the record all read and change this one object, so no part of a run keeps a
private copy of what another part may replace (a port clash at deploy replaces
the engine; the load driver is created at deploy and stopped at teardown).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.analysis.abort import Trip
from harness.analysis.steady import Answer, ProbeResult
from harness.audit.live import run_audit
from harness.clock import Clock
from harness.engine.containers import Target
from harness.engine.port import StackEngine
from harness.errors import HarnessError, Interrupted
from harness.evidence.events import EventLog
from harness.faults.runner import FaultRunner
from harness.load.driver import LoadDriver, LoadPlan, LoadResult
from harness.ports import PortReservation
from harness.report.pipeline import RunSummary, render_run
from harness.run import environment
from harness.run.engine_terms import default_engine
from harness.run.exporter import LiveExporter
from harness.run.guards import AbortWatch, Endpoints, http_get, steady_round
from harness.run.isolation import IsolationProber
from harness.run.progress import Progress
from harness.run.ready import wait_ready
from harness.run.record import RunRecord
from harness.run.telemetry import RunTelemetry
from harness.scenario.models import Scenario
from harness.scenario.plan import Plan

ProgressFn = Callable[[Progress], None]
NoticeFn = Callable[[str], None]

_log = logging.getLogger(__name__)

T = TypeVar("T")


def guard_view(fn: Callable[[T], None]) -> Callable[[T], None]:
    """A view callback that can never raise into the run (and so never skip a cleanup step).

    ``Interrupted`` still passes: the signal handler raises it in whatever frame
    runs, a callback included, and the run must unwind on it.
    """

    def call(arg: T) -> None:
        try:
            fn(arg)
        except Interrupted:
            raise
        except Exception:
            _log.warning("a progress/notice callback failed; ignored", exc_info=True)

    return call


@dataclass(frozen=True)
class RunOptions:
    """Command-line choices that are not part of the scenario."""

    keep: bool = False
    out_root: Path | None = None
    project: str | None = None
    adopt_existing: bool = False  # run against a compose project that already exists
    metrics_port: int | None = None  # live OpenMetrics endpoint on 127.0.0.1 (0: any free port)
    pushgateway: str | None = None  # push the live metrics there when the run ends


@dataclass(frozen=True)
class Collaborators:
    """What a run works with besides its engine; unit tests hand in fakes."""

    engine_for: Callable[[Scenario, str, str], StackEngine] = default_engine
    fault_runner: Callable[..., FaultRunner] = FaultRunner
    load_driver: Callable[[LoadPlan], LoadDriver] = LoadDriver
    wait_ready: Callable[..., float] = wait_ready
    environment: Callable[[StackEngine, Path], dict[str, Any]] = environment.collect
    audit: Callable[[Path, str], dict[str, Any]] = run_audit
    steady_round: Callable[[Sequence[Any], Endpoints], list[ProbeResult]] = steady_round
    http_get: Callable[[str, float], Answer] = http_get  # one GET of the stack (url, timeout)
    render: Callable[[Path, Sequence[str] | None], RunSummary] = render_run
    pool: Callable[..., Executor] = ThreadPoolExecutor
    telemetry: Callable[..., RunTelemetry] = RunTelemetry


@dataclass
class RunContext:
    """Everything one run knows, set up front or learnt as it goes."""

    scenario: Scenario
    plan: Plan
    options: RunOptions
    use: Collaborators
    clock: Clock  # the schedule's time source; tests inject a FakeClock
    view: ProgressFn  # the live display (the CLI's)
    notice: NoticeFn
    project: str
    run_id: str
    run_dir: Path
    port: PortReservation  # held until the stack is torn down: no concurrent run gets it
    engine: StackEngine
    events: EventLog
    record: RunRecord
    faults: FaultRunner = field(init=False)
    load: LoadDriver | None = None
    load_result: LoadResult | None = None
    t0_mono: float | None = None  # t = 0 on the monotonic clock, once the load runs
    target_url: str = ""
    errors: list[str] = field(default_factory=list)
    deployed: bool = False  # from here on, teardown is owed even if the deploy failed half-way
    adopted: bool = False  # the project existed before: never torn down by hachaos
    signalled: bool = False  # a signal arrived: cleanup does only what is owed
    isolation: IsolationProber | None = None
    watch: AbortWatch | None = None
    tripped: Trip | None = None  # the stop condition that aborted the run
    telemetry: RunTelemetry | None = None  # container and stack metrics
    exporter: LiveExporter | None = None  # the live OpenMetrics endpoint, when asked for
    workers_placed: bool = False  # load workers an engine placed, not removed yet
    final_reads: dict[str, Any] | None = None  # what the consistency final reads did

    def __post_init__(self) -> None:
        self.faults = self.use.fault_runner(
            project=self.project,
            run_id=self.run_id,
            run_dir=self.run_dir,
            events=self.events,
            select=self.select,
            engine=self.engine.kind,
        )

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Target]:
        """Targets on the current engine (late-bound: a port clash at deploy replaces it)."""
        return self.engine.select(service, replicas)

    @property
    def scenario_file(self) -> Path:
        assert self.scenario.source is not None
        return self.scenario.source

    @property
    def total(self) -> float:
        """The load's whole length: warmup + duration + cooldown."""
        t = self.scenario.timing
        return t.warmup + t.duration + t.cooldown

    def endpoints(self) -> Endpoints:
        return Endpoints(self.target_url, self.engine.published_port)

    def progress(self, progress: Progress) -> None:
        """Show a snapshot of the run (and serve it live, when asked for)."""
        self.view(progress)
        if self.exporter is not None:
            self.exporter.update(progress)

    def emit_progress(self, phase: str, elapsed: float, message: str) -> None:
        self.progress(Progress(phase=phase, elapsed=elapsed, total=self.total, message=message))

    def revert_failed(self, failures: Sequence[object]) -> None:
        """Record and show each fault that could not be reverted."""
        for failure in failures:
            self.errors.append(f"REVERT FAILED: {failure}")
            self.notice(f"REVERT FAILED: {failure}")

    def step(self, what: str, step: Callable[[], None]) -> None:
        """Run one cleanup step; any exception is recorded, never raised, so the next runs."""
        try:
            step()
        except HarnessError as exc:
            self.errors.append(f"{what} failed: {exc}")
        except Exception as exc:  # a bug in one step must not skip the next
            self.errors.append(f"{what} failed: internal error: {exc!r}\n{traceback.format_exc()}")
