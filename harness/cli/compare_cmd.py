"""`hachaos compare BASE_RUN NEW_RUN`: regression table of two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.analysis.compare import CompareResult, Tolerances, compare_runs
from harness.analysis.gate import DEFAULT_MIN_RUNS, DEFAULT_WINDOW, GatePolicy, GateResult
from harness.analysis.inputs import load_run
from harness.analysis.noise import DEFAULT_K
from harness.analysis.runrecord import RunRecord
from harness.analysis.suite_compare import SuiteComparison, compare_suites
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, SummaryError, read_summary
from harness.cli.history_opts import (
    BaselineOption,
    ExcludeBusy,
    GateK,
    GateMinRuns,
    GateWindow,
    HistoryOption,
    gate_policy,
    open_history,
)
from harness.cli.output import (
    EXIT_PASS,
    EXIT_SLO_FAILED,
    call_guarded,
    console,
    err_console,
    plain,
)
from harness.cli.suite_folder import is_suite_folder, load_suite, suite_run_dirs
from harness.errors import ScenarioError
from harness.history.baseline import judge_against_history
from harness.history.folders import run_record
from harness.report.comparison import (
    HEADER,
    compare_table,
    render_compare_json,
    render_compare_markdown,
)
from harness.report.gate import HEADER as GATE_HEADER
from harness.report.gate import gate_rows, render_gate_json, render_gate_markdown
from harness.report.suite_comparison import (
    HEADER as SUITE_HEADER,
)
from harness.report.suite_comparison import (
    render_suite_compare_json,
    render_suite_compare_markdown,
    suite_compare_table,
)
from harness.report.writer import write_reports


def _summary(run_dir: Path) -> Summary:
    path = run_dir / "summary.json"
    if path.is_file():  # a foreign or older summary is a SummaryError (exit 2), never guessed
        return read_summary(path)
    # No summary yet (e.g. an interrupted run): analyse the raw data instead.
    return analyse(load_run(run_dir))


def _run(base_run: Path, new_run: Path, tolerances: Tolerances) -> CompareResult:
    result = compare_runs(_summary(base_run), _summary(new_run), tolerances)
    write_reports(
        new_run,
        {
            "compare.md": render_compare_markdown(result),
            "compare.json": render_compare_json(result),
        },
    )
    return result


def compare(
    base_run: Annotated[
        Path,
        typer.Argument(
            help="the reference run folder (with --baseline history: the run or suite to judge)",
            show_default=False,
        ),
    ],
    new_run: Annotated[
        Path | None, typer.Argument(help="the run folder to judge", show_default=False)
    ] = None,
    max_availability_drop: Annotated[
        str, typer.Option(help="largest allowed drop of overall availability (percentage points)")
    ] = "0.5%",
    max_p99_increase: Annotated[
        str, typer.Option(help="largest allowed relative p99 increase")
    ] = "20%",
    max_ttr_increase: Annotated[
        str, typer.Option(help="largest allowed time-to-recover increase per fault")
    ] = "2s",
    baseline: BaselineOption = None,
    history: HistoryOption = None,
    gate_k: GateK = DEFAULT_K,
    gate_window: GateWindow = DEFAULT_WINDOW,
    gate_min_runs: GateMinRuns = DEFAULT_MIN_RUNS,
    exclude_busy: ExcludeBusy = False,
) -> None:
    """Compare two runs; write compare.md/compare.json into NEW_RUN; exit 1 on a regression.
    Two suite folders (reports/_suite/<ts>) are compared scenario by scenario.

    With `--baseline history` and one folder (a run or a suite), each figure is judged
    against the recent runs of the same scenario in the run history instead: outside its
    noise band is a regression (gate.md/gate.json written into the folder; exit 1)."""
    policy = call_guarded(
        lambda: gate_policy(baseline, gate_k, gate_window, gate_min_runs, exclude_busy)
    )
    if policy is not None:
        if new_run is not None:
            call_guarded(_one_folder_only)
        _gate(base_run, policy, history)
    if new_run is None:
        call_guarded(_two_folders)
        raise AssertionError("unreachable")  # pragma: no cover
    if is_suite_folder(base_run) and is_suite_folder(new_run):
        _suites(base_run, new_run, max_availability_drop, max_p99_increase, max_ttr_increase)

    second = new_run

    def body() -> CompareResult:
        tol = Tolerances.parse(max_availability_drop, max_p99_increase, max_ttr_increase)
        return _run(base_run, second, tol)

    result = call_guarded(body)
    _print_result(result)
    console.print(f"written: {second / 'compare.md'}")
    raise typer.Exit(EXIT_SLO_FAILED if result.regressed else EXIT_PASS)


def _print_result(result: CompareResult) -> None:
    table = Table(*HEADER, title=f"{result.base_run} → {result.new_run}")
    for row in compare_table(result):
        style = "red" if row[5] == "REGRESSED" else None
        table.add_row(*row, style=style)
    console.print(table)
    console.print(
        f"run verdicts: base {result.base_verdict.upper() or '?'}"
        f" → new {result.new_verdict.upper() or '?'}"
    )
    if "unchecked" in (result.base_verdict, result.new_verdict):
        console.print("note: an `unchecked` run defines no checks; only the metrics are compared")
    console.print("[bold red]regression[/]" if result.regressed else "[green]no regression[/]")


def _one_folder_only() -> None:
    raise ScenarioError(
        "--baseline history judges one folder against the history; give only that folder",
        hint="hachaos compare --baseline history reports/<scenario>/<timestamp>",
    )


def _two_folders() -> None:
    raise ScenarioError(
        "give two run (or suite) folders, or one with --baseline history",
        hint="hachaos compare BASE_RUN NEW_RUN, or hachaos compare --baseline history RUN",
    )


def _gate_records(target: Path) -> list[RunRecord]:
    """The runs a gate judges: the run folder, or every run of a suite folder."""
    if not is_suite_folder(target):
        return [run_record(target)]
    records = []
    for run_dir in suite_run_dirs(target):
        try:
            records.append(run_record(run_dir))
        except SummaryError as exc:
            err_console.print(f"[yellow]not judged:[/] {plain(exc.message)}")
    return records


def _gate(target: Path, policy: GatePolicy, history: str | None) -> None:
    """`hachaos compare --baseline history FOLDER`: the gate; exits."""

    def body() -> list[GateResult]:
        store = open_history(history, target.parent.parent)
        if store is None:
            raise ScenarioError("--baseline history needs the history (not --history off)")
        with store:
            results = [judge_against_history(store, r, policy) for r in _gate_records(target)]
        write_reports(
            target,
            {"gate.md": render_gate_markdown(results), "gate.json": render_gate_json(results)},
        )
        return results

    results = call_guarded(body)
    print_gate(results)
    console.print(f"written: {target / 'gate.md'}")
    raise typer.Exit(EXIT_SLO_FAILED if any(r.regressed for r in results) else EXIT_PASS)


def print_gate(results: list[GateResult]) -> None:
    """The gate's table, its notes and its conclusion."""
    table = Table(*GATE_HEADER, title="regression gate (against the run history)")
    for row in gate_rows(results):
        table.add_row(*(plain(c) for c in row), style="red" if "REGRESSED" in row[-1] else None)
    console.print(table)
    for r in results:
        for note in r.notes:
            console.print(f"{plain(r.scenario)}: {plain(note)}", soft_wrap=True)
    regressed = [r.scenario for r in results if r.regressed]
    console.print(
        f"[bold red]regression in {len(regressed)} scenario(s): {plain(', '.join(regressed))}[/]"
        if regressed
        else "[green]no regression (every judged figure within noise)[/]"
    )


def _suites(base: Path, new: Path, *tolerances: str) -> None:
    """`hachaos compare` of two suite folders: one row per scenario; exits."""

    def body() -> SuiteComparison:
        tol = Tolerances.parse(*tolerances)
        cmp = compare_suites(load_suite(base), load_suite(new), tol, names=(str(base), str(new)))
        write_reports(
            new,
            {
                "compare.md": render_suite_compare_markdown(cmp),
                "compare.json": render_suite_compare_json(cmp),
            },
        )
        return cmp

    cmp = call_guarded(body)
    table = Table(*SUITE_HEADER, title=f"{base} → {new}")
    for row in suite_compare_table(cmp):
        table.add_row(*row, style="red" if row[-1].startswith("REGRESSED") else None)
    console.print(table)
    regressed = sum(1 for s in cmp.scenarios if s.regressed)
    console.print(
        f"[bold red]regression in {regressed} scenario(s)[/]"
        if regressed
        else "[green]no regression[/]"
    )
    if cmp.flipped:  # reported, not a regression: the suite run itself flags them
        console.print(
            f"[yellow]expected to fail, now pass: {plain(', '.join(cmp.flipped))}[/]"
            " (the weakness is gone, or the scenario no longer shows it: check, then update"
            " `expect:`)",
            soft_wrap=True,
        )
    console.print(f"written: {new / 'compare.md'}")
    raise typer.Exit(EXIT_SLO_FAILED if regressed else EXIT_PASS)
