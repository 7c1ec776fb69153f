"""Run folder → analysis → every report format → files. The API the orchestrator calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.analysis.inputs import load_run
from harness.analysis.slo import CheckResult
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, Verdict
from harness.errors import ScenarioError
from harness.report.html import render_html
from harness.report.json import render_annotations, render_json
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.writer import write_reports

RENDERERS: dict[str, tuple[str, Callable[[Summary], str]]] = {
    "html": ("report.html", render_html),
    "md": ("summary.md", render_markdown),
    "json": ("summary.json", render_json),
    "junit": ("junit.xml", render_junit),
}


@dataclass(frozen=True)
class RunSummary:
    """What a caller needs after rendering: the verdict, the checks and where the files are."""

    verdict: Verdict
    checks: list[CheckResult]
    availability: float | None
    p99_ms: float | None
    requests: int
    report_path: Path
    summary_path: Path
    reasons: tuple[str, ...] = ()  # why the verdict is what it is (summary.json's)


def render_documents(summary: Summary, formats: Sequence[str]) -> dict[str, str]:
    """``{file name: text}`` for each requested format."""
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ScenarioError(
            f"unknown report format(s): {', '.join(unknown)}",
            hint=f"choose from {', '.join(RENDERERS)}",
        )
    return {RENDERERS[f][0]: RENDERERS[f][1](summary) for f in formats}


def run_summary(summary: Summary, run_dir: Path) -> RunSummary:
    """The small result object of a summary."""
    headline = summary.headline
    return RunSummary(
        verdict=summary.verdict,
        checks=[CheckResult.from_dict(c.model_dump()) for c in summary.checks],
        availability=headline.availability,
        p99_ms=headline.p99_ms,
        requests=headline.requests,
        report_path=run_dir / "report.html",
        summary_path=run_dir / "summary.json",
        reasons=tuple(summary.verdict_reasons),
    )


def render_run(run_dir: Path, formats: Sequence[str] | None = None) -> RunSummary:
    """Analyse a run folder and write its reports (all formats unless ``formats`` is given).

    Works on partial runs (no samples, missing reverts): what is missing is
    listed in the reports' warnings instead of raising.
    """
    summary = analyse(load_run(run_dir))
    documents = render_documents(summary, formats or list(RENDERERS))
    documents["annotations.json"] = render_annotations(summary)  # for dashboards, always
    write_reports(run_dir, documents)
    return run_summary(summary, run_dir)
