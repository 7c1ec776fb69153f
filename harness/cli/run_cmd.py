"""`hachaos run`: one scenario, start to finish."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.table import Table

from harness.analysis.repeat import RepeatResult, repeat_result
from harness.cli import capacity_cmd
from harness.cli.history_opts import HistoryOption, RepeatOption, open_history, record_run
from harness.cli.output import console, guarded, plain, verdict_exit_code, worst_code
from harness.cli.progress_view import ProgressView
from harness.errors import ScenarioError
from harness.evidence.folder import new_run_dir, utc_stamp
from harness.history.store import HistoryStore
from harness.report.repeat import HEADER as REPEAT_HEADER
from harness.report.repeat import (
    render_repeat_json,
    render_repeat_markdown,
    repeat_rows,
    verdict_line,
)
from harness.report.writer import write_reports
from harness.run.experiment import ExperimentOptions
from harness.run.host_noise import sampling_host
from harness.run.orchestrator import Orchestrator, RunOptions, RunOutcome
from harness.run.validate import validate_file
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import MAX_SEED, Scenario
from harness.scenario.plan import build_plan

_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "aborted": "bold red",
    "unchecked": "bold blue",
    "error": "bold red",
    "interrupted": "bold yellow",
}


def exit_code(outcome: RunOutcome) -> int:
    """0 pass, 1 SLO failed, 3 infrastructure error, 128+signal when interrupted."""
    name = signal.Signals(outcome.signal).name if outcome.signal is not None else None
    return verdict_exit_code(outcome.verdict, name)


def print_verdict(outcome: RunOutcome) -> None:
    """The short verdict table, the errors, and where the report is."""
    summary = outcome.summary
    style = _STYLE.get(outcome.verdict, "bold yellow")
    table = Table(title=f"verdict: {outcome.verdict.upper()}", title_style=style)
    for col in ("check", "measured", "threshold", "result"):
        table.add_column(col)
    if summary is not None:
        for c in summary.checks:
            res = "[green]pass[/]" if c.passed else "[red]FAIL[/]"
            table.add_row(plain(c.name), _num(c.measured, c.unit), _num(c.threshold, c.unit), res)
    if summary is not None and summary.checks:
        console.print(table)
    else:
        why = "; ".join(summary.reasons) if summary is not None and summary.reasons else ""
        if not why and outcome.verdict == "unchecked":
            why = "the scenario defines no checks"
        console.print(
            f"[{style}]verdict: {outcome.verdict.upper()}[/]" + (f" ({plain(why)})" if why else ""),
            soft_wrap=True,
        )
    if summary is not None:
        avail = f"{summary.availability * 100:.3f} %" if summary.availability is not None else "-"
        p99 = f"{summary.p99_ms:.1f} ms" if summary.p99_ms is not None else "-"
        console.print(f"requests {summary.requests}   availability {avail}   p99 {p99}")
    if outcome.aborted:
        console.print(f"[bold red]aborted:[/] {plain(outcome.aborted)}", soft_wrap=True)
    for err in outcome.errors:
        console.print(f"[bold red]error:[/] {plain(err)}", soft_wrap=True)
    report = summary.report_path if summary is not None else outcome.run_dir
    console.print(f"report: {report}")


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("%", "ratio"):
        return f"{value * 100:.3f} %"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:g} {unit}".strip()


def check_gateway(url: str | None) -> str | None:
    """A Pushgateway URL: http(s)://host[:port][/path], nothing else (exit 2 otherwise)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise ScenarioError(
            f"--pushgateway {url!r} is not an http(s) URL",
            hint="e.g. --pushgateway http://127.0.0.1:9091",
        )
    return url


def execute(sc: Scenario, compose: ComposeConfig, options: RunOptions, quiet: bool) -> RunOutcome:
    """Run one validated scenario with the progress display, then print its verdict."""
    view = ProgressView(quiet=quiet)
    orch = Orchestrator(
        sc,
        build_plan(sc, compose.replicas()),
        options,
        on_progress=view.update,
        on_notice=view.notice,
    )
    console.print(f"hachaos run {sc.name}: project {orch.project}, run folder {orch.run_dir}")
    with view, sampling_host(orch.run_dir):  # the host's own load, for the busy-host flag
        outcome = orch.run()
    print_verdict(outcome)
    return outcome


# The options of `hachaos run`, as types (typer reads the Annotated metadata).
ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario file (YAML), e.g. scenarios/kill-replica.yaml.")
]
KeepOption = Annotated[
    bool, typer.Option("--keep", help="Leave the stack up afterwards (faults still reverted).")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Root of run folders (default: the scenario's report.dir)."),
]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", help="Compose project (default: hachaos-<scenario>-<random>)."),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        "--seed",
        min=-MAX_SEED,
        max=MAX_SEED,
        help="Override the scenario's seed (picks, jitter).",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No live display; a line every 10 s (CI logs).")
]
AdoptOption = Annotated[
    bool,
    typer.Option(
        "--adopt-existing",
        help="Allow a compose project that already exists; it is left up afterwards.",
    ),
]
KubeconfigOption = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        help="Kubernetes stacks: the cluster's kubeconfig (default: stack.kubeconfig, else "
        "the local cluster of `make kube`, else $KUBECONFIG).",
    ),
]
MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        min=0,
        max=65535,
        help="Serve live OpenMetrics on 127.0.0.1:PORT during the run (0: any free port).",
    ),
]
PushgatewayOption = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        help="Push the run's metrics to this Pushgateway (http://host:port) when it ends.",
    ),
]


def run(
    scenario: ScenarioArg,
    keep: KeepOption = False,
    out: OutOption = None,
    project: ProjectOption = None,
    seed: SeedOption = None,
    quiet: QuietOption = False,
    adopt_existing: AdoptOption = False,
    kubeconfig: KubeconfigOption = None,
    metrics_port: MetricsPortOption = None,
    pushgateway: PushgatewayOption = None,
    history: HistoryOption = None,
    repeat: RepeatOption = 1,
) -> None:
    """Deploy the stack, drive load, inject and revert faults, tear down, write the evidence.

    The scenario is fully validated first; nothing is deployed if it is invalid (exit 2).
    A compose project that already exists is refused (exit 3) unless --adopt-existing.
    Every applied fault is reverted on every exit path, Ctrl-C and SIGTERM included.
    Exit codes: 0 all checks passed, 1 a check failed, 2 invalid scenario,
    3 infrastructure error (deploy failed, fault not applied, revert failed), 130/143 interrupted.

    With --repeat N the scenario runs N times (each its own run folder and project); the
    repetitions' spreads and flaky verdicts go to <reports>/_repeat/<UTC time>/repeat.md
    and repeat.json; the exit code is the worst of the runs.
    """
    if kubeconfig is not None:  # read by the Kubernetes engine, in this process only
        os.environ["HACHAOS_KUBECONFIG"] = str(kubeconfig.resolve())
    with guarded():
        sc, compose = validate_file(scenario)
        if seed is not None:
            sc = sc.model_copy(update={"seed": seed})
        if sc.experiment is not None:  # a capacity experiment, not one timed run
            experiment = ExperimentOptions(keep=keep, out_root=out)
            raise typer.Exit(capacity_cmd.execute(sc, compose, experiment, quiet))
        options = RunOptions(
            keep=keep,
            out_root=out,
            project=project,
            adopt_existing=adopt_existing,
            metrics_port=metrics_port,
            pushgateway=check_gateway(pushgateway),
        )
        if repeat > 1 and (keep or adopt_existing):
            raise ScenarioError(
                "--repeat deploys a fresh stack per repetition: it cannot --keep one or "
                "--adopt-existing one",
                hint="drop --keep/--adopt-existing, or run once",
            )
        code = _run_recorded(sc, compose, options, quiet, history, repeat)
    raise typer.Exit(code)


def _run_recorded(
    sc: Scenario,
    compose: ComposeConfig,
    options: RunOptions,
    quiet: bool,
    history: str | None,
    repeat: int,
) -> int:
    """Run once or ``repeat`` times, each run recorded in the history; the exit code."""
    root = options.out_root or Path(sc.report.dir)
    # Opened before anything is deployed: an unreachable database stops here (exit 3).
    store = open_history(history, root)
    try:
        if repeat == 1:
            outcome = execute(sc, compose, options, quiet)
            record_run(store, outcome.run_dir)
            return exit_code(outcome)
        return run_repeated(sc, compose, options, quiet, store, repeat, root)
    finally:
        if store is not None:
            store.close()


def run_repeated(
    sc: Scenario,
    compose: ComposeConfig,
    options: RunOptions,
    quiet: bool,
    store: HistoryStore | None,
    repeat: int,
    root: Path,
) -> int:
    """`hachaos run --repeat N`: N runs, then their spreads; the worst exit code."""
    started = datetime.now(UTC)
    group = f"{sc.name}-{utc_stamp(started)}"
    codes: list[int] = []
    records = []
    for i in range(1, repeat + 1):
        console.rule(f"{sc.name}: repetition {i} of {repeat}")
        outcome = execute(sc, compose, options, quiet)
        codes.append(exit_code(outcome))
        record = record_run(store, outcome.run_dir, repeat=group, repetition=i)
        if record is not None:
            records.append(record)
        if codes[-1] >= 128:  # interrupted: no further repetition
            break
    result = repeat_result(sc.name, records)
    folder = new_run_dir(root, "_repeat", started)
    write_reports(
        folder,
        {
            "repeat.md": render_repeat_markdown([result]),
            "repeat.json": render_repeat_json([result]),
        },
    )
    print_repeat([result])
    console.print(f"repeat report: {folder / 'repeat.md'}")
    return worst_code(codes)


def print_repeat(results: list[RepeatResult]) -> None:
    """Spreads per figure and the flaky verdicts of repeated runs."""
    table = Table(*REPEAT_HEADER, title="repeated runs")
    for row in repeat_rows(results):
        table.add_row(*(plain(c) for c in row))
    console.print(table)
    for r in results:
        style = "bold red" if r.flaky else "green"
        console.print(f"[{style}]{plain(r.scenario)}: {plain(verdict_line(r))}[/]", soft_wrap=True)
