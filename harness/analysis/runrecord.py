"""One run as the history keeps it: identity, verdict, figures, checks and environment.

Built from a run's summary (``record_of``); the store (harness/history) writes and reads
these, and the gate, the trend page and repeat runs work on lists of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.analysis.figures import figures_of
from harness.analysis.summary_model import Summary


@dataclass(frozen=True)
class CheckValue:
    """One SLO check of a run with its measured value."""

    name: str
    phase: str
    measured: float | None
    threshold: float
    unit: str
    passed: bool

    @property
    def key(self) -> str:
        """What identifies the check across runs of a scenario."""
        return f"{self.name} [{self.phase}]"


@dataclass(frozen=True)
class HostNoise:
    """How busy the host was while the faults were in effect (docs/history.md#host-noise)."""

    load: float | None  # highest 1-minute load average
    cores: int | None
    steal: float | None  # CPU steal, fraction of the host's CPU time
    other_cpu: float | None  # CPU of processes other than hachaos and the stack, in cores
    busy: bool
    note: str = ""  # e.g. "host busy: load 15 on 2 cores during the faults"


@dataclass(frozen=True)
class RunRecord:
    """A run in the history. ``started_at`` is epoch seconds (t0 of the measurement)."""

    run_id: str
    scenario: str
    verdict: str
    started_at: float
    scenario_file: str = ""
    scenario_sha256: str | None = None
    git_commit: str | None = None
    hachaos: str | None = None
    tags: tuple[str, ...] = ()
    expected: str = "pass"
    duration_s: float | None = None
    run_dir: str = ""
    engine: str = "compose"
    host_cores: int | None = None
    platform: str | None = None
    suite: str | None = None  # the suite folder's name when a suite ran it
    repeat: str | None = None  # the repeat group when `--repeat N` ran it
    repetition: int | None = None  # 1..N within the group
    host: HostNoise | None = None
    figures: Mapping[str, float | None] = field(default_factory=dict)
    checks: tuple[CheckValue, ...] = ()

    @property
    def env_class(self) -> str:
        """Runs compared with each other: same engine and the same number of cores."""
        return environment_class(self.engine, self.host_cores)

    @property
    def as_expected(self) -> bool:
        """The verdict the scenario expects (``unchecked`` counts as a pass)."""
        return ("pass" if self.verdict == "unchecked" else self.verdict) == self.expected

    @property
    def busy(self) -> bool:
        return self.host is not None and self.host.busy


def environment_class(engine: str | None, cores: int | None) -> str:
    """``compose, 2 cores``: the class of hosts whose runs make one baseline."""
    return f"{engine or 'compose'}, {cores if cores else '?'} cores"


def record_of(
    summary: Summary,
    *,
    run_dir: str,
    tags: tuple[str, ...] = (),
    expected: str = "pass",
    suite: str | None = None,
    repeat: str | None = None,
    repetition: int | None = None,
) -> RunRecord:
    """The history record of a run's summary."""
    run, env = summary.run, summary.environment
    started = run.t0_wall if run.t0_wall is not None else run.started_wall
    ended = run.ended_wall
    host = None
    if summary.host is not None:
        h = summary.host
        host = HostNoise(h.load_max, h.cores, h.steal, h.other_cpu, h.busy, h.note)
    return RunRecord(
        run_id=run.run_id or run_dir,
        scenario=run.scenario or "",
        verdict=summary.verdict,
        started_at=float(started or 0.0),
        scenario_file=run.scenario_file or "",
        scenario_sha256=run.scenario_sha256,
        git_commit=env.git_commit,
        hachaos=env.hachaos,
        tags=tags,
        expected=expected,
        duration_s=(ended - run.started_wall) if ended and run.started_wall else None,
        run_dir=run_dir,
        engine=env.engine or "compose",
        # a run that failed before its environment was collected: the sampler's count
        host_cores=env.host_cores or (summary.host.cores if summary.host else None),
        platform=env.platform,
        suite=suite,
        repeat=repeat,
        repetition=repetition,
        host=host,
        figures=figures_of(summary),
        checks=tuple(
            CheckValue(
                c.name,
                c.phase,
                float(c.measured) if c.measured is not None else None,
                float(c.threshold),
                c.unit,
                c.passed,
            )
            for c in summary.checks
        )
        + _abort_check(summary),
    )


ABORT_PHASE = "abort"


def _abort_check(summary: Summary) -> tuple[CheckValue, ...]:
    """A stop condition that held, as a failed check (as junit.xml reports it), so that a
    run aborted in one repetition and not in another shows which condition flipped."""
    a = summary.abort
    if a is None:
        return ()
    measured = float(a.measured) if a.measured is not None else None
    return (CheckValue(f"abort: {a.condition}", ABORT_PHASE, measured, 0.0, "", False),)


@dataclass(frozen=True)
class SuiteRecord:
    """A suite in the history; its runs carry its name (``RunRecord.suite``)."""

    suite: str  # the suite folder's name (its UTC start stamp)
    started_at: float
    suite_dir: str
    wall_s: float | None = None
    tags: tuple[str, ...] = ()
    git_commit: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    unexpected: int = 0
