"""A capacity experiment, start to finish: every configuration deployed once, searched, removed.

For each variant (``stack.variants``, or the stack as it is) and each replica count
(``experiment.scaling``, or the stack's own), one :class:`Deployment`:

1. deploy, wait until the target answers;
2. the healthy search (steps chosen by :class:`CapacitySearch`);
3. with ``faults``: apply them all, let the stack notice (``settle``), the same
   search with them held, revert them;
4. revert anything still applied and tear down, on every exit path.

``capacity.json`` is rewritten after every step, so an interrupted or killed
experiment still leaves what it measured; the reports are written at the end.
A configuration that fails (its deploy, a fault) is recorded with its error and
the next one runs; a signal ends the experiment after the cleanup.
"""

from __future__ import annotations

import os
import shutil
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.analysis.capacity.checks import capacity_checks, experiment_verdict
from harness.analysis.capacity.document import (
    CAPACITY_FILE,
    CapacityDocument,
    Condition,
    Configuration,
    HostNoise,
    SearchRecord,
    StepRecord,
    configuration_headroom,
    scaling_tables,
)
from harness.analysis.capacity.search import SearchLimits
from harness.analysis.capacity.slo import step_slo
from harness.analysis.steady import first_failure
from harness.clock import REAL_CLOCK, Clock
from harness.engine.port import StackEngine
from harness.errors import EngineError, HarnessError, Interrupted
from harness.evidence.folder import new_run_dir, new_run_id, project_name, write_json_atomic
from harness.load.driver import resolve_workers
from harness.report.capacity_pipeline import write_capacity
from harness.run.capacity_recovery import Recovery, recover, target_probe
from harness.run.capacity_search import run_search
from harness.run.capacity_step import StepRunner, StepSettings, host_load
from harness.run.context import Collaborators, RunContext
from harness.run.deploy import deploy
from harness.run.deployment import configuration_context, hold_faults, release_faults
from harness.run.signals import SignalGuard
from harness.run.teardown import teardown
from harness.scenario.compose import ComposeConfig
from harness.scenario.experiment import Experiment
from harness.scenario.models import Scenario
from harness.scenario.plan import build_plan

LineFn = Callable[[str], None]
# A step's load start and stop around its settle + hold + drain (measured: 2-6 s on a
# busy 2-core host); the search's time budget plans with it until a step was timed.
STEP_OVERHEAD_S = 5.0


@dataclass(frozen=True)
class ExperimentOptions:
    """Command-line choices that are not part of the scenario."""

    keep: bool = False
    out_root: Path | None = None


@dataclass(frozen=True)
class ConfigSpec:
    """One configuration to deploy: a variant at a replica count."""

    variant: str
    overrides: tuple[str, ...]
    replicas: int | None

    @property
    def label(self) -> str:
        return (
            self.variant if self.replicas is None else f"{self.variant} @ {self.replicas} replicas"
        )

    @property
    def slug(self) -> str:
        base = "".join(c if c.isalnum() or c in "._-" else "-" for c in self.variant)
        return base if self.replicas is None else f"{base}-x{self.replicas}"


def configurations(scenario: Scenario, experiment: Experiment) -> list[ConfigSpec]:
    """Every variant at every replica count, in the order they are measured."""
    variants = [(v.name, tuple(v.overrides)) for v in scenario.stack.variants] or [("default", ())]
    counts: list[int | None] = list(experiment.scaling.counts()) if experiment.scaling else [None]
    return [ConfigSpec(name, files, n) for name, files in variants for n in counts]


@dataclass
class ExperimentOutcome:
    """What the CLI needs: the verdict, the document and where the reports are."""

    folder: Path
    document: CapacityDocument
    report: Path | None
    signal: int | None = None


@dataclass
class ExperimentRunner:
    """Runs one validated experiment scenario. Create one per experiment."""

    scenario: Scenario
    compose: ComposeConfig
    options: ExperimentOptions = field(default_factory=ExperimentOptions)
    on_line: LineFn = lambda _line: None
    on_notice: LineFn = lambda _message: None
    clock: Clock = REAL_CLOCK
    use: Collaborators = field(default_factory=Collaborators)  # fakes in unit tests
    folder: Path = field(init=False)
    doc: CapacityDocument = field(init=False)
    _current: RunContext | None = field(default=None, init=False)
    _partial: Configuration | None = field(default=None, init=False)  # the one under way

    def __post_init__(self) -> None:
        if self.scenario.experiment is None or self.scenario.source is None:
            raise ValueError("an ExperimentRunner needs a loaded scenario with `experiment`")
        self.experiment: Experiment = self.scenario.experiment
        root = self.options.out_root or Path(self.scenario.report.dir)
        self.folder = new_run_dir(root, self.scenario.name)
        capacity = self.experiment.capacity
        self.limits = SearchLimits(
            start=capacity.first_rate(self.scenario.load.rps),
            max_rps=capacity.max_rps,
            step=capacity.step,
            factor=capacity.factor,
            resolution=capacity.resolution,
            max_steps=capacity.max_steps,
            max_time_s=capacity.max_time,
            step_s=capacity.step_seconds() + self.scenario.load.timeout + STEP_OVERHEAD_S,
            repeat_bad=capacity.repeat_bad,
        )
        self.workers = resolve_workers(self.scenario.load.worker_count())
        self.doc = CapacityDocument(
            scenario=self.scenario.name,
            run_id=new_run_id(self.scenario.name),
            started_wall=self.clock.wall(),
            slo=step_slo(self.scenario),
            limits=self.limits,
            peak=capacity.peak,
            workers=self.workers,
            scaled_service=self.experiment.scaling.service if self.experiment.scaling else None,
            host=HostNoise(cores=os.cpu_count() or 1, load_before=host_load(), load_after=None),
        )

    # ------------------------------------------------------------------ public
    def run(self) -> ExperimentOutcome:
        """Measure every configuration; never raises HarnessError (it becomes the outcome)."""
        self._write_inputs()
        outcome, signum, errors = "completed", None, list[str]()
        with SignalGuard(self._on_signal) as guard:
            try:
                for spec in configurations(self.scenario, self.experiment):
                    self._configuration(spec)
            except Interrupted as exc:
                outcome, signum = "interrupted", exc.signum
            except HarnessError as exc:
                outcome = "error"
                errors.append(str(exc))
            except Exception as exc:  # a bug must still not skip the teardown
                outcome = "error"
                errors.append(f"internal error: {exc!r}\n{traceback.format_exc()}")
            finally:
                guard.cleaning()
                errors += self._end_current()
            if guard.received is not None and signum is None:
                outcome, signum = "interrupted", guard.received
        return self._finish(outcome, errors, signum)

    # ------------------------------------------------------------------ one configuration
    def _engine(self, spec: ConfigSpec) -> StackEngine:
        project = project_name(self.scenario.name, self.scenario.stack.project)
        engine = self.use.engine_for(self.scenario, project, self.doc.run_id)
        if spec.overrides:
            engine = engine.with_overrides([self.scenario.resolve_path(f) for f in spec.overrides])
        if spec.replicas is not None and self.experiment.scaling is not None:
            engine = engine.with_replicas(self.experiment.scaling.service, spec.replicas)
        return engine

    def _configuration(self, spec: ConfigSpec) -> None:
        replicas = self.compose.replicas()
        if spec.replicas is not None and self.experiment.scaling is not None:
            replicas[self.experiment.scaling.service] = spec.replicas
        engine = self._engine(spec)
        ctx = configuration_context(
            self.scenario,
            engine,
            build_plan(self.scenario, replicas),
            self.folder / spec.slug,
            new_run_id(engine.project),
            keep=self.options.keep,
            use=self.use,
            clock=self.clock,
            notice=self.on_notice,
        )
        self._current = ctx
        config = Configuration(variant=spec.variant, replicas=spec.replicas, label=spec.label)
        self._partial = config
        self.on_line(f"{spec.label}: deploying {ctx.project}")
        try:
            deploy(ctx, prespawn_load=False)
            self._check_replicas(spec, ctx)
            config = self._searches(spec, ctx, config)
        except Interrupted:
            self._record(self._partial)  # what it measured before the signal
            raise
        except HarnessError as exc:
            config = self._partial.model_copy(update={"error": str(exc)})
            self.on_line(f"{spec.label}: {exc}")
        errors = self._end_current()
        if errors:
            joined = "; ".join([config.error or "", *errors]).strip("; ")
            config = config.model_copy(update={"error": joined})
        self._record(config)

    def _check_replicas(self, spec: ConfigSpec, ctx: RunContext) -> None:
        """The engine runs the replica count asked for, or the curve would be wrong."""
        scaling = self.experiment.scaling
        if scaling is None or spec.replicas is None:
            return
        found = len(ctx.engine.select(scaling.service, ()))
        if found != spec.replicas:
            raise EngineError(
                f"asked for {spec.replicas} replicas of {scaling.service}, the engine runs {found}",
                hint="check the service's scale settings (a fixed container_name, a `scale:`"
                " the engine ignores)",
            )

    def _searches(self, spec: ConfigSpec, ctx: RunContext, config: Configuration) -> Configuration:
        healthy = self._search(spec, ctx, "healthy", config)
        config = config.model_copy(update={"healthy": healthy})
        degraded = None
        if ctx.plan.steps:
            held = hold_faults(ctx)
            self.on_line(f"{spec.label}: holding {', '.join(held)}")
            self.clock.sleep(self.experiment.capacity.settle)  # health checks notice it
            degraded = self._search(spec, ctx, "degraded", config, faults=held)
            release_faults(ctx)
        peak = self.experiment.capacity.peak
        return config.model_copy(
            update={
                "degraded": degraded,
                "headroom": configuration_headroom(healthy, degraded, peak),
            }
        )

    def _search(
        self,
        spec: ConfigSpec,
        ctx: RunContext,
        condition: Condition,
        config: Configuration,
        faults: tuple[str, ...] = (),
    ) -> SearchRecord:
        capacity = self.experiment.capacity
        load = self.scenario.load
        settings = StepSettings(
            target_url=ctx.target_url,
            load=load,
            locustfile=self.scenario.resolve_path(load.locustfile) if load.locustfile else None,
            workers=self.workers,
            seed=self.scenario.seed,
            run_id=ctx.run_id,
            settle=capacity.settle,
            hold=capacity.hold,
            slo=self.doc.slo,
        )
        runner = StepRunner(
            settings, ctx.run_dir / condition, self.folder, self.clock, self.use.load_driver
        )

        def on_step(step: StepRecord, so_far: SearchRecord) -> None:
            self._step_line(spec, condition, step)
            self._partial = config.model_copy(update={condition: so_far})
            self._save(self._partial)

        self.on_line(f"{spec.label}: {condition} search from {self.limits.start:g}/s")
        return run_search(
            runner,
            self.limits,
            condition,
            self.clock,
            faults=faults,
            peak=capacity.peak,
            rest=self._rest(ctx),
            on_step=on_step,
        )

    def _rest(self, ctx: RunContext) -> Callable[[], Recovery] | None:
        """After a bad step: no load for ``recover``, then until the stack serves again."""
        capacity = self.experiment.capacity
        if not capacity.recover and not capacity.recover_max:
            return None
        # one request meets the loosest bound a step is judged by (the load's timeout without)
        bounds = [b.max_ms / 1000.0 for b in self.doc.slo.latency]
        within = max(bounds) if bounds else self.scenario.load.timeout
        spec = self.scenario.steady_state
        steady = None
        if spec is not None:
            probes = spec.probes

            def steady() -> bool:
                return first_failure(ctx.use.steady_round(probes, ctx.endpoints())) is None

        probe = target_probe(ctx.target_url, within, steady, get=ctx.use.http_get)
        return lambda: recover(self.clock, capacity.recover, capacity.recover_max, probe)

    def _step_line(self, spec: ConfigSpec, condition: str, step: StepRecord) -> None:
        m = step.measure
        p99 = m.latency_ms.get("p99")
        errors = (m.error_rate or 0.0) * 100
        why = f" ({'; '.join(step.verdict.reasons)})" if step.verdict.reasons else ""
        self.on_line(
            f"{spec.label}, {condition}: step {step.index} at {step.rate:g}/s:"
            f" {step.verdict.verdict}{why}; achieved {m.achieved_rps:.1f}/s,"
            f" p99 {'-' if p99 is None else f'{p99:.0f} ms'}, errors {errors:.2f} %,"
            f" worker CPU {step.generator.cpu_max:.0f} %"
            + (f"; after {step.rested_s:.1f} s without load" if step.rested_s else "")
        )

    # ------------------------------------------------------------------ records
    def _record(self, config: Configuration) -> None:
        self._partial = None
        self.doc = self.doc.model_copy(
            update={"configurations": (*self.doc.configurations, config)}
        )
        self._save()

    def _save(self, partial: Configuration | None = None, note: str = "") -> None:
        """capacity.json as far as it got (a configuration under way included)."""
        doc = self.doc
        if partial is not None:
            label = f"{partial.label} ({note})" if note else partial.label
            doc = doc.model_copy(
                update={
                    "configurations": (
                        *doc.configurations,
                        partial.model_copy(update={"label": label}),
                    )
                }
            )
        (self.folder / CAPACITY_FILE).write_text(doc.to_json(), encoding="utf-8")

    def _end_current(self) -> list[str]:
        """Revert, stop and tear down the configuration under way (the run's teardown)."""
        ctx, self._current = self._current, None
        if ctx is None:
            return []
        self.on_line(f"tearing down {ctx.project}")
        teardown(ctx)
        ctx.step("writing deployment.json", ctx.record.write)
        ctx.events.close()
        return list(ctx.errors)

    def _write_inputs(self) -> None:
        assert self.scenario.source is not None
        shutil.copyfile(self.scenario.source, self.folder / "scenario.yaml")
        dumped = self.scenario.model_dump(mode="json", by_alias=True, exclude={"source"})
        write_json_atomic(self.folder / "scenario.json", dumped)
        self._save()

    def _finish(self, outcome: str, errors: list[str], signum: int | None) -> ExperimentOutcome:
        configs = self.doc.configurations
        checks = capacity_checks(
            configs,
            min_capacity=self.scenario.checks.min_capacity,
            n_plus_1=self.scenario.checks.n_plus_1,
            peak=self.experiment.capacity.peak,
        )
        verdict, reasons = experiment_verdict(outcome, errors, configs, checks)
        self.doc = self.doc.model_copy(
            update={
                "ended_wall": self.clock.wall(),
                "outcome": outcome,
                "errors": tuple(errors),
                "scaling": scaling_tables(configs),
                "checks": tuple(checks),
                "verdict": verdict,
                "verdict_reasons": reasons,
                "host": self.doc.host.model_copy(update={"load_after": host_load()}),
            }
        )
        self._save()
        report: Path | None = None
        try:
            report = write_capacity(self.folder, self.doc, self.scenario.report.formats)
        except HarnessError as exc:
            self.on_notice(f"report failed: {exc}")
        return ExperimentOutcome(self.folder, self.doc, report, signum)

    def _on_signal(self, signum: int, cleaning: bool) -> None:
        if self._current is not None:
            self._current.signalled = True  # the teardown does only what is owed
        name = signal.Signals(signum).name
        what = "cleaning up first, please wait" if cleaning else "reverting faults, tearing down"
        self.on_notice(f"{name} received: {what}")
