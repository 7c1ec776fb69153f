"""`hachaos suite`: validate many scenarios, then run the selected ones one after another."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.output import console, err_console, guarded
from harness.cli.run_cmd import execute, exit_code
from harness.errors import Problem, ScenarioError
from harness.evidence.folder import new_run_dir
from harness.report.suite import SuiteEntry, merge_junit, render_suite_markdown
from harness.report.writer import write_reports
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
        bool, typer.Option("--fail-fast", help="Stop after the first run that does not pass.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live display (for CI logs).")
    ] = False,
) -> None:
    """Validate every scenario first (nothing runs if one is invalid), then run the selected
    ones in order. Writes reports/_suite/<UTC timestamp>/ with junit.xml (every run's checks)
    and summary.md. Exit code: the worst of the runs (130/143 > 3 > 1 > 0)."""
    with guarded():
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
        entries: list[SuiteEntry] = []
        codes: list[int] = []
        for file, sc, compose in chosen:
            if codes and ((fail_fast and codes[-1] != 0) or codes[-1] >= 128):
                entries.append(SuiteEntry(sc.name, str(file), "not run", "", None))
                continue
            console.rule(f"{sc.name}  ({file})")
            outcome = execute(sc, compose, RunOptions(out_root=root), quiet)
            codes.append(exit_code(outcome))
            junit = outcome.run_dir / "junit.xml"
            entries.append(
                SuiteEntry(
                    sc.name,
                    str(file),
                    outcome.verdict,
                    str(outcome.run_dir),
                    junit.read_text(encoding="utf-8") if junit.is_file() else None,
                )
            )
        suite_dir = new_run_dir(root, "_suite")
        write_reports(
            suite_dir,
            {"junit.xml": merge_junit(entries), "summary.md": render_suite_markdown(entries)},
        )
        table = Table(title="suite")
        for col in ("scenario", "verdict", "run folder"):
            table.add_column(col)
        for e in entries:
            table.add_row(e.scenario, e.verdict, e.run_dir or "-")
        console.print(table)
        console.print(f"suite report: {suite_dir}")
    worst = max(codes, key=_severity) if codes else 0
    if worst:
        err_console.print(f"suite exit code {worst}")
    raise typer.Exit(worst)


def _severity(code: int) -> int:
    """Interrupted beats infrastructure error beats SLO failure beats pass."""
    return {0: 0, 1: 1, 3: 2}.get(code, 3)
