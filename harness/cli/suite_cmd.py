"""`hachaos suite`: validate many scenarios, then run the selected ones one after another."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness import __version__
from harness.analysis.gate import DEFAULT_MIN_RUNS, DEFAULT_WINDOW, GateResult
from harness.analysis.noise import DEFAULT_K
from harness.analysis.repeat import repeat_result
from harness.analysis.runrecord import RunRecord, SuiteRecord
from harness.analysis.summary_model import Environment
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
from harness.cli.suite_folder import read_summary, suite_entry, write_suite
from harness.errors import HistoryError, Problem, ScenarioError
from harness.evidence.folder import new_run_dir
from harness.history.baseline import judge_against_history
from harness.history.store import HistoryStore
from harness.report.suite import SuiteEntry
from harness.report.suite_page import SuiteInfo
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


def suite(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or folders (default: scenarios/)."),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Run only scenarios with this tag (repeatable: any)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Root of run folders (default: reports/).")
    ] = None,
    fail_fast: Annotated[
        bool,
        typer.Option(
            "--fail-fast", help="Stop after the first run whose verdict is not the expected one."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live display (for CI logs).")
    ] = False,
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
    with guarded():
        policy = gate_policy(baseline, gate_k, gate_window, gate_min_runs, exclude_busy)
        root = out or Path("reports")
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
        store = open_history(history, root)  # before anything is deployed
        if policy is not None and store is None:
            raise ScenarioError("--baseline history needs the history (not --history off)")
        started, t0 = datetime.now(UTC), time.monotonic()
        suite_dir = new_run_dir(root, "_suite", started)
        entries: list[SuiteEntry] = []
        codes: list[int] = []
        taken: set[str] = set()
        environment: Environment | None = None
        repeated: dict[str, list[RunRecord]] = {sc.name: [] for _, sc, _ in chosen}
        # Rounds (every scenario once, then again): a busy spell of the host spreads over
        # the scenarios instead of hitting every repetition of one.
        for rep in range(1, repeat + 1):
            for file, sc, compose in chosen:
                if codes and ((fail_fast and codes[-1] != 0) or codes[-1] >= 128):
                    entries.append(
                        SuiteEntry(sc.name, str(file), "not run", "", None, expected=sc.expect)
                    )
                    continue
                where = f"  (repetition {rep} of {repeat})" if repeat > 1 else ""
                console.rule(f"{sc.name}  ({file}){where}")
                outcome = execute(sc, compose, RunOptions(out_root=root), quiet)
                entry = suite_entry(
                    sc.name,
                    str(file),
                    outcome.verdict,
                    outcome.run_dir,
                    suite_dir,
                    taken,
                    sc.expect,
                )
                codes.append(judged_code(exit_code(outcome), entry))
                entries.append(entry)
                record = record_run(
                    store,
                    outcome.run_dir,
                    suite=suite_dir.name,
                    repeat=f"{suite_dir.name}-{sc.name}" if repeat > 1 else None,
                    repetition=rep if repeat > 1 else None,
                )
                if record is not None:
                    repeated[sc.name].append(record)
                if policy is not None and store is not None and record is not None:
                    gate.append(judge_against_history(store, record, policy))
                summary = read_summary(outcome.run_dir)
                if environment is None and summary is not None:
                    environment = summary.environment
        spreads = [repeat_result(name, runs) for name, runs in repeated.items() if runs]
        info = SuiteInfo(
            started=started.strftime("%Y-%m-%d %H:%M:%S UTC"),
            wall_s=time.monotonic() - t0,
            tags=tuple(tag or ()),
            hachaos=f"hachaos {__version__}",
            git_commit=(environment and environment.git_commit) or "",
            host=f"Docker {(environment and environment.engine_version) or '?'}, "
            f"{(environment and environment.host_cores) or '?'} cores",
        )
        write_suite(
            suite_dir,
            entries,
            info,
            gate if policy is not None else None,
            spreads if repeat > 1 else None,
        )
        if store is not None:
            with store:
                record_suite(store, suite_dir, entries, info, started.timestamp())
        table = Table(title="suite")
        for col in ("scenario", "verdict", "expected", "run folder"):
            table.add_column(col)
        for e in entries:
            table.add_row(e.scenario, e.verdict, e.expected_text, e.run_dir or "-")
        console.print(table)
        if repeat > 1:
            print_repeat(spreads)
        if policy is not None:
            print_gate(gate)
        console.print(f"suite report: {suite_dir / 'index.html'}")
    if any(r.regressed for r in gate):
        codes.append(1)
    worst = worst_code(codes)
    if worst:
        err_console.print(f"suite exit code {worst}")
    raise typer.Exit(worst)


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
