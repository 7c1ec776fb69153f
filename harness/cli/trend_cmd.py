"""`hachaos trend`: the offline trend page of every scenario in the run history."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from harness.analysis.gate import DEFAULT_MIN_RUNS, DEFAULT_WINDOW, GatePolicy
from harness.analysis.noise import DEFAULT_K
from harness.analysis.runrecord import RunRecord
from harness.analysis.trend import MAX_RUNS, scenario_trend
from harness.cli.history_opts import (
    ExcludeBusy,
    GateK,
    GateMinRuns,
    GateWindow,
    HistoryOption,
    open_history,
)
from harness.cli.output import console, guarded
from harness.errors import ScenarioError
from harness.report.trend_page import TrendInfo, render_trend_html
from harness.report.writer import write_text


def report_link(record: RunRecord, page_dir: Path) -> str:
    """The run's report.html relative to the page, when it is still on disk."""
    report = Path(record.run_dir) / "report.html"
    if not record.run_dir or not report.is_file():
        return ""
    return Path(os.path.relpath(report.resolve(), page_dir.resolve())).as_posix()


def trend(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The page to write (default: <reports>/trend.html)."),
    ] = Path("reports/trend.html"),
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Only this scenario (repeatable).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=2, max=MAX_RUNS, help="Newest runs per scenario.")
    ] = 60,
    reports: Annotated[
        Path, typer.Option("--reports", help="Reports root holding the default history.sqlite.")
    ] = Path("reports"),
    history: HistoryOption = None,
    gate_k: GateK = DEFAULT_K,
    gate_window: GateWindow = DEFAULT_WINDOW,
    gate_min_runs: GateMinRuns = DEFAULT_MIN_RUNS,
    exclude_busy: ExcludeBusy = False,
) -> None:
    """Write one offline HTML page (inline CSS and SVG, no script, nothing fetched) with a
    panel per scenario: each figure over its runs, the noise band the regression gate had
    for each run, values outside it, verdict flips, runs on a busy host, and a link to
    each run's report."""
    with guarded():
        store = open_history(history, reports)
        if store is None:
            raise ScenarioError("the history is turned off (--history off)")
        policy = GatePolicy(gate_k, max(gate_window, gate_min_runs), gate_min_runs, exclude_busy)
        with store:
            names = scenario or store.scenarios()
            # the bands need the window of runs before the oldest shown one
            trends = [
                scenario_trend(
                    name,
                    store.runs(name, limit=limit + policy.window * 5),
                    policy,
                    lambda r: report_link(r, out.parent),
                    limit,
                )
                for name in names
            ]
            source = store.where
        info = TrendInfo(
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            source=source,
            policy=f"median ± {policy.k:g}·MAD of the last {policy.window} runs with the "
            f"expected verdict, at least {policy.min_runs}"
            + ("; busy hosts left out" if policy.exclude_busy else ""),
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, render_trend_html([t for t in trends if t.runs], info))
        runs = sum(len(t.runs) for t in trends)
        console.print(f"trend page: {out} ({len(trends)} scenario(s), {runs} runs)")
