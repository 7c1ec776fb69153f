"""`hachaos suite`: validate many scenarios, then run the selected ones one after another."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness import __version__
from harness.analysis.gate import DEFAULT_MIN_RUNS, DEFAULT_WINDOW, GatePolicy, GateResult
from harness.analysis.noise import DEFAULT_K
from harness.analysis.repeat import RepeatResult, repeat_result
from harness.analysis.runrecord import RunRecord, SuiteRecord
from harness.analysis.summary_model import Environment
from harness.cli.capacity_cmd import outcome_exit_code, run_experiment
from harness.cli.compare_cmd import print_gate
from harness.cli.history_opts import (
    BaselineOption,
    ExcludeBusy,
    GateK,
    GateMinRuns,
    GateWindow,
    HistoryOption,
    RepeatOption,
    gate_policy,
    open_history,
    record_run,
)
from harness.cli.output import console, err_console, guarded, worst_code
from harness.cli.run_cmd import execute, exit_code, print_repeat
from harness.cli.suite_folder import CAPACITY_SNAPSHOT, read_summary, suite_entry, write_suite
from harness.errors import HistoryError, Problem, ScenarioError
from harness.evidence.folder import new_run_dir
from harness.history.baseline import judge_against_history
from harness.history.store import HistoryStore
from harness.report.suite import SuiteEntry
from harness.report.suite_page import SuiteInfo
from harness.run.experiment import ExperimentOptions
from harness.run.orchestrator import RunOptions
from harness.run.validate import validate_file
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import Scenario


def collect(paths: list[Path]) -> list[Path]:
    """Scenario files named directly, and every *.yaml/*.yml directly inside named folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            files.append(path)
    return files


def validate_all(files: list[Path]) -> list[tuple[Path, Scenario, ComposeConfig]]:
    """Every file validated; one ScenarioError with all their problems if any is invalid."""
    valid, problems = [], []
    for file in files:
        try:
            sc, compose = validate_file(file)
        except ScenarioError as exc:
            problems += exc.problems or [Problem(path="", message=exc.message, file=str(file))]
            continue
        valid.append((file, sc, compose))
    if problems:
        raise ScenarioError(
            f"{len(problems)} problem(s) in the suite; nothing was run",
            problems=problems,
            hint="fix them, or run `hachaos validate` on each file",
        )
    return valid


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Scenario files or folders (default: scenarios/)."),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="Run only scenarios with this tag (repeatable: any)."),
]
SuiteOutOption = Annotated[
    Path | None, typer.Option("--out", help="Root of run folders (default: reports/).")
]
FailFastOption = Annotated[
    bool,
    typer.Option(
        "--fail-fast", help="Stop after the first run whose verdict is not the expected one."
    ),
]
SuiteQuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No live display (for CI logs).")
]


def suite(
    paths: PathsArg = None,
    tag: TagOption = None,
    out: SuiteOutOption = None,
    fail_fast: FailFastOption = False,
    quiet: SuiteQuietOption = False,
    history: HistoryOption = None,
    repeat: RepeatOption = 1,
    baseline: BaselineOption = None,
    gate_k: GateK = DEFAULT_K,
    gate_window: GateWindow = DEFAULT_WINDOW,
    gate_min_runs: GateMinRuns = DEFAULT_MIN_RUNS,
    exclude_busy: ExcludeBusy = False,
) -> None:
    """Validate every scenario first (nothing runs if one is invalid), then run the selected
    ones in order. Writes reports/_suite/<UTC timestamp>/: index.html (the release report),
    summary.md, junit.xml (every run's checks), suite.json and a copy of each run's reports
    under runs/. Exit code: the worst of the runs that did not give the verdict their scenario
    expects (`expect:`, default pass; 130/143 > 3 > 1 > 0): a run that fails as expected counts
    as 0, one that passes where it should fail as 1.

    With `--baseline history`, each run is also judged against the recent runs of its
    scenario in the run history (gate.md, gate.json, a `hachaos.regression-gate` testsuite
    in junit.xml); a figure outside its noise band makes the suite exit 1.

    With `--repeat N`, the selected scenarios run N rounds; repeat.md and repeat.json give
    each figure's spread and 95 % confidence interval per scenario and mark a scenario
    flaky when its verdict differs between repetitions (a failed `hachaos.repeat` testcase
    in junit.xml); every run counts for the exit code."""
    gate: list[GateResult] = []
    codes: list[int] = []
    with guarded():
        policy = gate_policy(baseline, gate_k, gate_window, gate_min_runs, exclude_busy)
        root = out or Path("reports")
        chosen = _choose(paths, tag)
        store = open_history(history, root)  # before anything is deployed
        if policy is not None and store is None:
            raise ScenarioError("--baseline history needs the history (not --history off)")
        started, t0 = datetime.now(UTC), time.monotonic()
        runs = _SuiteRuns(root, new_run_dir(root, "_suite", started), store, policy, repeat)
        runs.repeated = {sc.name: [] for _, sc, _ in chosen}
        # Rounds (every scenario once, then again): a busy spell of the host spreads over
        # the scenarios instead of hitting every repetition of one.
        for rep in range(1, repeat + 1):
            for file, sc, compose in chosen:
                runs.one(rep, file, sc, compose, fail_fast=fail_fast, quiet=quiet)
        gate, codes = runs.gate, runs.codes
        spreads = [repeat_result(name, rs) for name, rs in runs.repeated.items() if rs]
        info = runs.info(started, time.monotonic() - t0, tuple(tag or ()))
        _write(runs, info, spreads, started)
        _print_suite(runs, spreads)
    if any(r.regressed for r in gate):
        codes.append(1)
    worst = worst_code(codes)
    if worst:
        err_console.print(f"suite exit code {worst}")
    raise typer.Exit(worst)


def _choose(
    paths: list[Path] | None, tag: list[str] | None
) -> list[tuple[Path, Scenario, ComposeConfig]]:
    """The valid scenarios with one of the tags asked for (all of them without a tag)."""
    chosen = [
        entry
        for entry in validate_all(collect(paths or [Path("scenarios")]))
        if not tag or set(tag) & set(entry[1].tags)
    ]
    if not chosen:
        raise ScenarioError(
            "no scenario matches", hint=f"tags asked for: {', '.join(tag or []) or 'none'}"
        )
    console.print(f"suite: {len(chosen)} scenario(s): {', '.join(c[1].name for c in chosen)}")
    return chosen


@dataclass
class _SuiteRuns:
    """The runs of one suite as they finish: entries, exit codes, history and gate."""

    root: Path
    suite_dir: Path
    store: HistoryStore | None
    policy: GatePolicy | None
    repeat: int
    entries: list[SuiteEntry] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    environment: Environment | None = None
    repeated: dict[str, list[RunRecord]] = field(default_factory=dict)
    gate: list[GateResult] = field(default_factory=list)

    def one(
        self,
        rep: int,
        file: Path,
        sc: Scenario,
        compose: ComposeConfig,
        *,
        fail_fast: bool,
        quiet: bool,
    ) -> None:
        """Run one scenario once (or mark it not run after a stop), and record it."""
        codes, repeat = self.codes, self.repeat
        if codes and ((fail_fast and codes[-1] != 0) or codes[-1] >= 128):
            self.entries.append(
                SuiteEntry(sc.name, str(file), "not run", "", None, expected=sc.expect)
            )
            return
        where = f"  (repetition {rep} of {repeat})" if repeat > 1 else ""
        console.rule(f"{sc.name}  ({file}){where}")
        if sc.experiment is not None:  # a capacity experiment: its own folder and page
            self.experiment(file, sc, compose, quiet=quiet)
            return
        outcome = execute(sc, compose, RunOptions(out_root=self.root), quiet)
        entry = suite_entry(
            sc.name,
            str(file),
            outcome.verdict,
            outcome.run_dir,
            self.suite_dir,
            self.taken,
            sc.expect,
        )
        codes.append(judged_code(exit_code(outcome), entry))
        self.entries.append(entry)
        record = record_run(
            self.store,
            outcome.run_dir,
            suite=self.suite_dir.name,
            repeat=f"{self.suite_dir.name}-{sc.name}" if repeat > 1 else None,
            repetition=rep if repeat > 1 else None,
        )
        if record is not None:
            self.repeated[sc.name].append(record)
        if self.policy is not None and self.store is not None and record is not None:
            self.gate.append(judge_against_history(self.store, record, self.policy))
        summary = read_summary(outcome.run_dir)
        if self.environment is None and summary is not None:
            self.environment = summary.environment

    def experiment(self, file: Path, sc: Scenario, compose: ComposeConfig, *, quiet: bool) -> None:
        """Run a capacity experiment scenario (docs/capacity.md) and record its row."""
        done = run_experiment(sc, compose, ExperimentOptions(out_root=self.root), quiet)
        entry = suite_entry(
            sc.name,
            str(file),
            done.document.verdict,
            done.folder,
            self.suite_dir,
            self.taken,
            sc.expect,
            CAPACITY_SNAPSHOT,
        )
        self.codes.append(judged_code(outcome_exit_code(done), entry))
        self.entries.append(entry)

    def info(self, started: datetime, wall_s: float, tags: tuple[str, ...]) -> SuiteInfo:
        environment = self.environment
        return SuiteInfo(
            started=started.strftime("%Y-%m-%d %H:%M:%S UTC"),
            wall_s=wall_s,
            tags=tags,
            hachaos=f"hachaos {__version__}",
            git_commit=(environment and environment.git_commit) or "",
            host=f"Docker {(environment and environment.engine_version) or '?'}, "
            f"{(environment and environment.host_cores) or '?'} cores",
        )


def _write(
    runs: _SuiteRuns, info: SuiteInfo, spreads: list[RepeatResult], started: datetime
) -> None:
    """The suite folder's reports, and the suite's row in the history."""
    write_suite(
        runs.suite_dir,
        runs.entries,
        info,
        runs.gate if runs.policy is not None else None,
        spreads if runs.repeat > 1 else None,
    )
    if runs.store is not None:
        with runs.store:
            record_suite(runs.store, runs.suite_dir, runs.entries, info, started.timestamp())


def _print_suite(runs: _SuiteRuns, spreads: list[RepeatResult]) -> None:
    table = Table(title="suite")
    for col in ("scenario", "verdict", "expected", "run folder"):
        table.add_column(col)
    for e in runs.entries:
        table.add_row(e.scenario, e.verdict, e.expected_text, e.run_dir or "-")
    console.print(table)
    if runs.repeat > 1:
        print_repeat(spreads)
    if runs.policy is not None:
        print_gate(runs.gate)
    console.print(f"suite report: {runs.suite_dir / 'index.html'}")


def record_suite(
    store: HistoryStore, suite_dir: Path, entries: list[SuiteEntry], info: SuiteInfo, at: float
) -> None:
    """The suite's row in the history (its runs were recorded as they finished)."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.verdict] = counts.get(e.verdict, 0) + 1
    record = SuiteRecord(
        suite=suite_dir.name,
        started_at=at,
        suite_dir=str(suite_dir),
        wall_s=info.wall_s,
        tags=info.tags,
        git_commit=info.git_commit or None,
        counts=counts,
        unexpected=sum(1 for e in entries if not e.as_expected),
    )
    try:
        store.add_suite(record)
    except HistoryError as exc:
        err_console.print(f"[bold yellow]suite not recorded in the history:[/] {exc}")


def judged_code(code: int, entry: SuiteEntry) -> int:
    """A run's share of the suite's exit code: 0 when it gave the expected verdict, 1 when it
    passed where it should not have, its own code otherwise (an error is never expected)."""
    if entry.as_expected:
        return 0
    return code or 1
