"""`hachaos history`: the recorded runs per scenario; `hachaos history import`: backfill."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.analysis.figures import FIGURES
from harness.analysis.runrecord import RunRecord
from harness.cli.history_opts import HistoryOption, open_history
from harness.cli.output import console, guarded, plain
from harness.errors import ScenarioError
from harness.history.folders import import_folders
from harness.report import fmt

app = typer.Typer(
    help="The run history: list recorded runs per scenario, or import run folders.",
    no_args_is_help=False,
    invoke_without_command=True,
)

_SHOWN = ("availability", "p50_ms", "p99_ms", "worst_ttr_s", "lost_writes")


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _table(scenario: str, records: list[RunRecord]) -> Table:
    units = {f.name: f for f in FIGURES}
    table = Table(title=f"{scenario}  ({len(records)} shown, newest first)", title_justify="left")
    for col in ("started (UTC)", "verdict", *(units[n].label for n in _SHOWN), "host", "commit"):
        table.add_column(col)
    table.add_column("run folder")
    for r in records:
        figs = [fmt.measured(r.figures.get(n), units[n].unit) for n in _SHOWN]
        verdict = r.verdict if r.as_expected else f"{r.verdict} (expected {r.expected})"
        host = ("busy" if r.busy else "quiet") if r.host else "-"
        table.add_row(
            when(r.started_at),
            plain(verdict),
            *figs,
            host,
            (r.git_commit or "-")[:8],
            plain(Path(r.run_dir).name),
        )
    return table


@app.callback()
def history(
    ctx: typer.Context,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Only this scenario (repeatable).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="Runs shown per scenario.")
    ] = 20,
    out: Annotated[
        Path, typer.Option("--out", help="Reports root holding the default history.sqlite.")
    ] = Path("reports"),
    db: HistoryOption = None,
) -> None:
    """List the recorded runs of every scenario (newest first) with their figures."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = (db, out)
        return
    with guarded():
        store = open_history(db, out)
        if store is None:
            raise ScenarioError("the history is turned off (--history off)")
        with store:
            names = scenario or store.scenarios()
            if not names:
                console.print(f"no run recorded in {store.where}")
                console.print("hint: `hachaos history import reports/` backfills from run folders")
                return
            for name in names:
                records = store.runs(name, limit=limit)
                if not records:
                    console.print(f"{plain(name)}: no run recorded")
                    continue
                console.print(_table(plain(name), records))
            console.print(f"history: {store.where} ({store.count()} runs)")


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders holding run and suite folders (default: reports/)."),
    ] = None,
) -> None:
    """Backfill the history from existing run folders (and the suites that ran them).
    A run already recorded is skipped, so importing twice adds nothing."""
    db, out = ctx.obj or (None, Path("reports"))
    with guarded():
        store = open_history(db, out)
        if store is None:
            raise ScenarioError("the history is turned off (--history off)")
        with store:
            for path in paths or [Path("reports")]:
                if not path.is_dir():
                    raise ScenarioError(f"{path} is not a folder", hint="pass e.g. reports/")
                result = import_folders(store, path)
                console.print(
                    f"{path}: {result.added} run(s) added, {result.known} already recorded, "
                    f"{result.suites} suite(s) added, {len(result.skipped)} skipped"
                )
                for folder, why in result.skipped[:20]:
                    console.print(f"  skipped {plain(folder)}: {plain(why)}", soft_wrap=True)
            console.print(f"history: {store.where} ({store.count()} runs)")
