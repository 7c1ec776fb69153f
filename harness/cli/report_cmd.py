"""`hachaos report RUN_DIR`: render the reports of a run folder again from its raw data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harness.analysis.capacity.document import CAPACITY_FILE
from harness.cli.capacity_cmd import print_outcome
from harness.cli.output import call_guarded, console, plain, verdict_exit_code
from harness.load.merge import merge_leftovers
from harness.report import fmt
from harness.report.capacity_pipeline import rerender_capacity
from harness.report.pipeline import RENDERERS, RunSummary, render_run

VERDICT_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "unchecked": "bold blue",
    "error": "bold magenta",
}


def exit_code(summary: RunSummary, run_dir: Path) -> int:
    """The documented exit code of a verdict (130/143 for interrupted runs, by signal)."""
    try:
        signal_name = json.loads((run_dir / "run.json").read_text()).get("signal")
    except (OSError, ValueError):
        signal_name = None
    return verdict_exit_code(summary.verdict, signal_name)


def print_summary(summary: RunSummary) -> None:
    """The verdict line, every check, and where the report is."""
    style = VERDICT_STYLE.get(summary.verdict, "bold yellow")
    availability = "—" if summary.availability is None else f"{summary.availability:.3%}"
    p99 = "—" if summary.p99_ms is None else f"{summary.p99_ms:.1f} ms"
    console.print(
        f"[{style}]{summary.verdict.upper()}[/] {summary.requests:,} requests, "
        f"availability {availability}, p99 {p99}"
    )
    for check in summary.checks:
        mark = "[green]pass[/]" if check.passed else "[red]FAIL[/]"
        console.print(
            f"  {mark} {plain(check.name)}: measured {fmt.measured(check.measured, check.unit)}"
        )
    if summary.verdict == "unchecked":
        console.print("  the scenario defines no checks: nothing was judged")
    console.print(f"report: {summary.report_path}")


def merge_killed_run(run_dir: Path) -> None:
    """A killed run left its samples as chunks: merge them, so the report counts them."""
    if not (run_dir / "run.json").is_file():
        return  # not a run folder: render_run says so
    stats = merge_leftovers(run_dir)
    if stats is None:
        return
    console.print("merged the sample chunks the run left behind into samples.parquet")
    for path in stats.damaged:
        console.print(
            f"[yellow]warning:[/] skipped the damaged sample chunk {path}", soft_wrap=True
        )


FORMATS_HELP = f"only these formats ({', '.join(RENDERERS)}); repeat the option; default all"


def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="a run folder, e.g. reports/<scenario>/<timestamp>/", show_default=False
        ),
    ],
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help=FORMATS_HELP)] = None,
) -> None:
    """Re-render report.html, summary.md, summary.json and junit.xml from a run's raw data
    (of a capacity experiment's folder: capacity.html, capacity.md and junit.xml from its
    capacity.json).

    Exits 0 if every check passed, 1 if a check failed, 3 on a harness error,
    130/143 if the run was interrupted.
    """
    if (run_dir / CAPACITY_FILE).is_file() and not (run_dir / "run.json").is_file():
        doc = call_guarded(lambda: rerender_capacity(run_dir, formats or None))
        print_outcome(doc, run_dir / "capacity.html", run_dir)
        raise typer.Exit(verdict_exit_code(doc.verdict, None))
    call_guarded(lambda: merge_killed_run(run_dir))
    summary = call_guarded(lambda: render_run(run_dir, formats or None))
    print_summary(summary)
    raise typer.Exit(exit_code(summary, run_dir))
