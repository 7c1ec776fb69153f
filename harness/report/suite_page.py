"""The suite's release report: one offline HTML page (inline CSS and SVG, no script).

Pure: suite entries in, HTML text out. The template is harness/report/templates/suite.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from harness.report import fmt
from harness.report.charts import PALETTE, WINDOW_FILL
from harness.report.suite import (
    ORDER,
    SuiteEntry,
    audit_text,
    counts_line,
    isolation_text,
    lost_text,
    ttr_text,
    worst_first,
)
from harness.report.suite_facts import RunFacts

SPARK_W, SPARK_H = 220, 40
FAILED_COLOUR = PALETTE[1]
REQUESTS_COLOUR = PALETTE[0]
WINDOW_COLOUR = WINDOW_FILL[0]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["printable"] = fmt.printable


@dataclass(frozen=True)
class SuiteInfo:
    """What the page says about the suite as a whole."""

    title: str = "hachaos release report"
    started: str = ""  # UTC, ISO 8601
    wall_s: float | None = None
    tags: tuple[str, ...] = ()
    hachaos: str = ""
    git_commit: str = ""
    host: str = ""


def sparkline(f: RunFacts) -> Markup:
    """Requests per bucket (line), failed requests per bucket (red bars, same scale) and
    fault windows (shaded) of one run, as an inline SVG; empty when the run has no timeline.
    A bucket is a second up to 2 h runs (``f.step_s``)."""
    # The series hold whole buckets only (analysis/metrics.py): no partial edge to cut here.
    full = [(t, n, k) for t, n, k in zip(f.t, f.requests_per_s, f.failed_per_s, strict=False)]
    if not full:
        return Markup('<span class="muted">no timeline</span>')
    step = f.step_s
    end = max(f.end_s, full[-1][0] + step, 1.0)
    top = max(*(n for _, n, _ in full), 1)
    plot_h = SPARK_H - 2

    def x(t: float) -> float:
        return round(max(0.0, min(t, end)) / end * SPARK_W, 1)

    def y(v: float) -> float:
        return round(SPARK_H - 1 - v / top * plot_h, 1)

    parts = [
        f'<rect x="{x(a)}" y="0" width="{max(x(b) - x(a), 1.0)}" height="{SPARK_H}" '
        f'fill="{WINDOW_COLOUR}" opacity=".45"/>'
        for a, b in f.windows
    ]
    bar_w = max(SPARK_W * step / end, 1.0)
    for t, _, failed in full:
        if failed > 0:
            parts.append(
                f'<rect class="failed" x="{x(t)}" y="{y(failed)}" width="{round(bar_w, 1)}" '
                f'height="{round(SPARK_H - 1 - y(failed), 1)}" fill="{FAILED_COLOUR}"/>'
            )
    points = " ".join(f"{x(t + step / 2)},{y(n)}" for t, n, _ in full)
    parts.append(
        f'<polyline class="requests" points="{points}" fill="none" '
        f'stroke="{REQUESTS_COLOUR}" stroke-width="1.2"/>'
    )
    requests, failed_total = sum(n for _, n, _ in full), sum(k for _, _, k in full)
    label = f"{len(full) * step} s: {requests:,} requests, {failed_total:,} failed"
    return Markup(
        f'<svg class="spark" width="{SPARK_W}" height="{SPARK_H}" '
        f'viewBox="0 0 {SPARK_W} {SPARK_H}" role="img" aria-label="{Markup.escape(label)}">'
        f"<title>{Markup.escape(label)}</title>{''.join(parts)}</svg>"
    )


def _flag(f: RunFacts | None) -> dict[str, str]:
    """CSS classes that mark the cells worth a look."""
    if f is None:
        return {}
    audit_bad = f.audit_error is not None or (
        f.audit is not None and f.audit["critical"] + f.audit["high"] > 0
    )
    return {
        "ttr": "bad" if f.unrecovered else "",
        "lost": "bad" if (f.lost_writes or 0) + (f.corrupt_writes or 0) > 0 else "",
        "isolation": "bad" if f.denied_open or f.allowed_closed else "",
        "audit": "warn" if audit_bad else "",
    }


def _row(e: SuiteEntry) -> dict[str, object]:
    f = e.facts
    missing = fmt.MISSING
    return {
        "verdict": e.verdict,
        "verdict_text": fmt.verdict_text(e.verdict),
        "expected": e.expected_text,
        "unexpected": not e.as_expected,
        "scenario": e.scenario,
        "file": e.file,
        "link": e.link,
        "reasons": list(f.reasons) if f else [],
        "host_note": f.host_note if f else "",
        "availability": fmt.pct(f.availability, 2) if f else missing,
        "p99": fmt.ms(f.p99_ms) if f else missing,
        "ttr": ttr_text(f) if f else missing,
        "lost": lost_text(f) if f else missing,
        "isolation": isolation_text(f) if f else missing,
        "audit": audit_text(f) if f else missing,
        "checks": f"{f.checks_passed}/{f.checks_passed + f.checks_failed}" if f else missing,
        "spark": sparkline(f) if f else Markup(""),
        "flag": _flag(f),
    }


def suite_verdict(entries: Sequence[SuiteEntry]) -> str:
    """The worst unexpected verdict of the suite: ``pass`` when every run gave the verdict
    its scenario expects, ``fail`` for a run that passed where it should have failed."""
    if not entries:
        return "error"
    unexpected = [e for e in entries if not e.as_expected]
    if not unexpected:
        return "pass"
    worst = min(unexpected, key=lambda e: ORDER.get(e.verdict, 0)).verdict
    return "fail" if worst in ("pass", "unchecked") else worst


def render_suite_html(entries: Sequence[SuiteEntry], info: SuiteInfo) -> str:
    """The release report of a suite: one row per scenario, worst verdicts first."""
    verdict = suite_verdict(entries)
    return _ENV.get_template("suite.html").render(
        info=info,
        verdict=verdict,
        verdict_text=fmt.verdict_text(verdict),
        counts=counts_line(entries),
        wall=fmt.MISSING if info.wall_s is None else f"{info.wall_s / 60:.1f} min",
        rows=[_row(e) for e in worst_first(entries)],
        colours={"requests": REQUESTS_COLOUR, "failed": FAILED_COLOUR, "window": WINDOW_COLOUR},
    )
