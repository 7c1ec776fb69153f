"""`hachaos compare BASE_RUN NEW_RUN`: regression table of two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.analysis.compare import CompareResult, Tolerances, compare_runs
from harness.analysis.inputs import load_run
from harness.analysis.suite_compare import SuiteComparison, compare_suites
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, read_summary
from harness.cli.output import EXIT_PASS, EXIT_SLO_FAILED, call_guarded, console
from harness.cli.suite_folder import is_suite_folder, load_suite
from harness.report.comparison import (
    HEADER,
    compare_table,
    render_compare_json,
    render_compare_markdown,
)
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
    base_run: Annotated[Path, typer.Argument(help="the reference run folder", show_default=False)],
    new_run: Annotated[Path, typer.Argument(help="the run folder to judge", show_default=False)],
    max_availability_drop: Annotated[
        str, typer.Option(help="largest allowed drop of overall availability (percentage points)")
    ] = "0.5%",
    max_p99_increase: Annotated[
        str, typer.Option(help="largest allowed relative p99 increase")
    ] = "20%",
    max_ttr_increase: Annotated[
        str, typer.Option(help="largest allowed time-to-recover increase per fault")
    ] = "2s",
) -> None:
    """Compare two runs; write compare.md/compare.json into NEW_RUN; exit 1 on a regression.
    Two suite folders (reports/_suite/<ts>) are compared scenario by scenario."""
    if is_suite_folder(base_run) and is_suite_folder(new_run):
        _suites(base_run, new_run, max_availability_drop, max_p99_increase, max_ttr_increase)

    def body() -> CompareResult:
        tol = Tolerances.parse(max_availability_drop, max_p99_increase, max_ttr_increase)
        return _run(base_run, new_run, tol)

    result = call_guarded(body)
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
    console.print(f"written: {new_run / 'compare.md'}")
    raise typer.Exit(EXIT_SLO_FAILED if result.regressed else EXIT_PASS)


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
    console.print(f"written: {new / 'compare.md'}")
    raise typer.Exit(EXIT_SLO_FAILED if regressed else EXIT_PASS)
