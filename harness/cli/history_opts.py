"""The ``--history`` option shared by run, suite, compare, history and trend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.analysis.runrecord import RunRecord
from harness.analysis.summary_model import SummaryError
from harness.cli.output import err_console, plain
from harness.errors import HistoryError
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
    """Record a finished run; a failure is a warning (the run's own verdict stands)."""
    if store is None:
        return None
    try:
        record = run_record(run_dir, suite=suite, repeat=repeat, repetition=repetition)
        store.add_run(record)
    except SummaryError as exc:
        err_console.print(f"[yellow]not recorded in the history:[/] {plain(exc.message)}")
        return None
    except HistoryError as exc:
        err_console.print(f"[bold yellow]not recorded in the history:[/] {plain(str(exc))}")
        return None
    return record
