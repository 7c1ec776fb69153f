"""`hachaos capacity SCENARIO`: the load a stack sustains within its SLOs (docs/capacity.md)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.analysis.capacity.document import CapacityDocument
from harness.cli.output import console, err_console, guarded, plain, verdict_exit_code
from harness.errors import ScenarioError
from harness.report import capacity_rows as rows
from harness.report import fmt
from harness.run.experiment import ExperimentOptions, ExperimentOutcome, ExperimentRunner
from harness.run.validate import check_scenario, validate_file
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import Scenario

_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "unchecked": "bold blue",
    "error": "bold red",
    "interrupted": "bold yellow",
}

_SETTINGS = (
    "start",
    "step",
    "factor",
    "max_rps",
    "hold",
    "settle",
    "resolution",
    "peak",
    "repeat_bad",
)


_RUN_ONLY = ("faults", "abort", "steady_state")


def _as_experiment(raw: dict[str, Any]) -> list[str]:
    """Turn a run scenario's data into an experiment's: its stack, workload and step SLOs
    stay; what only a timed run means goes. Returns what was left out."""
    left_out = [key for key in _RUN_ONLY if raw.pop(key, None)]
    raw.pop("timing", None)
    load = raw["load"]
    for key in ("rps", "stages", "users", "spawn_rate", "think_time"):
        load.pop(key, None)
    load["model"] = "open"
    checks = raw.get("checks") or {}
    kept = {
        "availability": {"overall": (checks.get("availability") or {}).get("overall")},
        "latency": [
            {**c, "phase": "overall", "corrected": True}
            for c in checks.get("latency") or []
            if c.get("phase", "overall") == "overall"
        ],
    }
    left_out += [
        f"checks.{k}" for k, v in checks.items() if v and k not in ("availability", "latency")
    ]
    raw["checks"] = kept
    return left_out


def with_settings(sc: Scenario, settings: dict[str, Any]) -> tuple[Scenario, list[str]]:
    """``sc`` with capacity settings from the command line, and what was left out: a run
    scenario (no ``experiment`` block) becomes an experiment (``max_rps`` is then needed)."""
    given = {k: v for k, v in settings.items() if v is not None}
    raw = sc.model_dump(mode="json", by_alias=True, exclude={"source"})
    left_out: list[str] = []
    if not raw.get("experiment"):
        if "max_rps" not in given:
            raise ScenarioError(
                f"{sc.name} has no `experiment` block, so the search has no upper bound",
                hint="pass --max-rps (and --start/--step), or add `experiment: {capacity: ...}`",
            )
        left_out = _as_experiment(raw)
        raw["experiment"] = {"capacity": {}}
    raw["experiment"]["capacity"].update(given)
    try:
        changed = type(sc).model_validate(raw).model_copy(update={"source": sc.source})
    except ValueError as exc:
        raise ScenarioError(f"the capacity settings are invalid: {exc}") from exc
    return changed, left_out


def print_outcome(doc: CapacityDocument, report: Path | None, folder: Path) -> None:
    """The verdict, each configuration's capacity, the checks, and where the report is."""
    style = _STYLE.get(doc.verdict, "bold yellow")
    reasons = "; ".join(doc.verdict_reasons)
    console.print(f"[{style}]capacity: {doc.verdict.upper()}[/] {plain(reasons)}", soft_wrap=True)
    for config, (head, *cells) in zip(doc.configurations, rows.summary_rows(doc), strict=True):
        if config.error:
            continue  # the verdict's reasons above already name it
        held = f"; with the faults held {plain(cells[1])}" if config.degraded else ""
        console.print(f"  {plain(head)}: {plain(cells[0])}{held}", soft_wrap=True)
    for note in rows.generator_notes(doc.configurations):
        console.print(f"  [yellow]{plain(note)}[/]", soft_wrap=True)
    for check in doc.checks:
        mark = "[green]pass[/]" if check.passed else "[red]FAIL[/]"
        measured = fmt.measured(check.measured, check.unit)
        console.print(f"  {mark} {plain(check.name)}: measured {measured}")
    for error in doc.errors:
        console.print(f"[bold red]error:[/] {plain(error)}", soft_wrap=True)
    console.print(f"report: {report or folder}")


def run_experiment(
    sc: Scenario, compose: ComposeConfig, options: ExperimentOptions, quiet: bool
) -> ExperimentOutcome:
    """Run a validated experiment scenario and print its outcome."""
    runner = ExperimentRunner(
        sc,
        compose,
        options,
        on_line=(lambda _line: None) if quiet else (lambda line: console.print(f"  {plain(line)}")),
        on_notice=lambda message: err_console.print(f"[yellow]{plain(message)}[/]"),
    )
    console.print(f"hachaos capacity {sc.name}: folder {runner.folder}")
    outcome = runner.run()
    print_outcome(outcome.document, outcome.report, outcome.folder)
    return outcome


def outcome_exit_code(outcome: ExperimentOutcome) -> int:
    """0 pass or unchecked, 1 a check failed, 3 error, 128 + signal when interrupted."""
    name = signal.Signals(outcome.signal).name if outcome.signal is not None else None
    return verdict_exit_code(outcome.document.verdict, name)


def execute(sc: Scenario, compose: ComposeConfig, options: ExperimentOptions, quiet: bool) -> int:
    """Run a validated experiment scenario, print the outcome, return the exit code."""
    return outcome_exit_code(run_experiment(sc, compose, options, quiet))


def capacity(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    max_rps: Annotated[
        float | None, typer.Option("--max-rps", help="Never offer more than this (requests/s).")
    ] = None,
    start: Annotated[float | None, typer.Option("--start", help="First step's rate.")] = None,
    step: Annotated[float | None, typer.Option("--step", help="Requests/s added per step.")] = None,
    factor: Annotated[
        float | None, typer.Option("--factor", help="Multiply the rate per step instead.")
    ] = None,
    hold: Annotated[str | None, typer.Option("--hold", help="Measured time per step.")] = None,
    settle: Annotated[
        str | None, typer.Option("--settle", help="Unmeasured lead-in per step.")
    ] = None,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="Narrow down to this share, e.g. 5%.")
    ] = None,
    peak: Annotated[
        float | None, typer.Option("--peak", help="N+1: the rate to carry with the faults held.")
    ] = None,
    repeat_bad: Annotated[
        int | None,
        typer.Option("--repeat-bad", min=0, max=3, help="Measure a bad step again (busy host)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Root of the experiment folder.")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave each configuration's stack up.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per step.")] = False,
) -> None:
    """Find the highest open-model rate the stack carries within its SLOs.

    Steps the rate up until a step breaks availability, corrected latency or the error
    rate, then narrows the limit down to the resolution; with `faults`, searches again
    with them held (headroom, N+1 against --peak); with `experiment.scaling` and
    `stack.variants`, once per replica count and variant. A scenario without an
    `experiment` block needs --max-rps. Writes capacity.html, capacity.md,
    capacity.json and junit.xml. Exit codes: 0 pass (or no check), 1 a check failed,
    2 invalid scenario, 3 infrastructure error, 130/143 interrupted.
    """
    values = (start, step, factor, max_rps, hold, settle, resolution, peak, repeat_bad)
    settings = dict(zip(_SETTINGS, values, strict=True))
    with guarded():
        sc, compose = validate_file(scenario)
        if any(v is not None for v in settings.values()) or sc.experiment is None:
            sc, left_out = with_settings(sc, settings)
            problems = check_scenario(sc, compose)
            if problems:
                raise ScenarioError(f"{scenario}: {len(problems)} problem(s)", problems=problems)
            if left_out:
                err_console.print(f"[yellow]a capacity search leaves out {', '.join(left_out)}[/]")
        code = execute(sc, compose, ExperimentOptions(keep=keep, out_root=out), quiet)
    raise typer.Exit(code)
