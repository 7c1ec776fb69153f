"""The ``--history`` option shared by run, suite, compare, history and trend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.analysis.gate import GatePolicy
from harness.analysis.runrecord import RunRecord
from harness.analysis.summary_model import SummaryError
from harness.cli.output import err_console, plain
from harness.errors import HistoryError, ScenarioError
from harness.history.folders import run_record
from harness.history.store import HistoryStore
from harness.history.url import ENV_VAR, history_url

HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history",
        help=(
            "The run history: a SQLite file or a PostgreSQL URL (postgresql://user@host/db); "
            f"`off` records nothing. Default: ${ENV_VAR}, else <reports>/history.sqlite."
        ),
        show_default=False,
    ),
]


def open_history(option: str | None, root: Path) -> HistoryStore | None:
    """The history store (migrated to this hachaos), or None when it is turned off."""
    url = history_url(option, root)
    return None if url is None else HistoryStore(url)


def record_run(
    store: HistoryStore | None,
    run_dir: Path,
    *,
    suite: str | None = None,
    repeat: str | None = None,
    repetition: int | None = None,
) -> RunRecord | None:
    """A finished run's record, added to the history when there is one; a failure to
    record is a warning (the run's own verdict stands). None when it left no summary."""
    try:
        record = run_record(run_dir, suite=suite, repeat=repeat, repetition=repetition)
    except SummaryError as exc:
        if store is not None:
            err_console.print(f"[yellow]not recorded in the history:[/] {plain(exc.message)}")
        return None
    if store is not None:
        try:
            store.add_run(record)
        except HistoryError as exc:
            err_console.print(f"[bold yellow]not recorded in the history:[/] {plain(str(exc))}")
    return record


BaselineOption = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        help="`history`: judge each figure against the recent runs of the same scenario "
        "in the run history (docs/history.md#the-regression-gate).",
        show_default=False,
    ),
]
GateK = Annotated[
    float,
    typer.Option("--gate-k", min=1.0, max=10.0, help="Band half-width in robust σ (MAD)."),
]
GateWindow = Annotated[
    int, typer.Option("--gate-window", min=3, max=1000, help="Recent runs in a baseline.")
]
GateMinRuns = Annotated[
    int,
    typer.Option("--gate-min-runs", min=2, max=1000, help="Fewer baseline runs: not judged."),
]
ExcludeBusy = Annotated[
    bool,
    typer.Option("--exclude-busy", help="Leave runs made on a busy host out of baselines."),
]


def gate_policy(
    baseline: str | None, k: float, window: int, min_runs: int, busy: bool
) -> GatePolicy | None:
    """The gate's policy when ``--baseline history`` was given; None without it."""
    if baseline is None:
        return None
    if baseline != "history":
        raise ScenarioError(
            f"--baseline {baseline!r} is not known",
            hint="--baseline history judges against the run history; to compare with one "
            "run, give its folder: hachaos compare BASE_RUN NEW_RUN",
        )
    return GatePolicy(k=k, window=max(window, min_runs), min_runs=min_runs, exclude_busy=busy)


RepeatOption = Annotated[
    int,
    typer.Option(
        "--repeat",
        min=1,
        max=100,
        help="Run each scenario N times: spreads and 95 % confidence intervals per figure, "
        "and a scenario whose verdict differs between repetitions is marked flaky.",
    ),
]
