"""The trend page (`hachaos trend`): one offline HTML file, inline CSS and SVG, no script.

One panel per scenario: a strip of its runs' verdicts (each links to the run's report),
then one chart per figure: the values over the runs, the band the gate had for each run
(shaded), runs outside it in red, runs on a busy host hollow, verdict flips as dashed
lines. Pure: trends in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup

from harness.analysis.trend import FigureTrend, RunMark, ScenarioTrend
from harness.report import fmt
from harness.report.charts import escape, nice_ticks
from harness.report.suite_page import _ENV

W, H = 430, 150
LEFT, RIGHT, TOP, BOTTOM = 62, 10, 22, 24
VALUE_COLOUR = "#1f6feb"
BAND_COLOUR = "#d0e3ff"
OUTSIDE_COLOUR = "#cf222e"
FLIP_COLOUR = "#9a6700"
VERDICT_COLOUR = {
    "pass": "#1a7f37",
    "unchecked": "#57606a",
    "fail": "#cf222e",
    "aborted": "#bc4c00",
    "error": "#8250df",
    "interrupted": "#9a6700",
}


@dataclass(frozen=True)
class TrendInfo:
    title: str = "hachaos trends"
    generated: str = ""
    source: str = ""  # the history database, password hidden
    policy: str = ""  # how the bands are made


def day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _tip(mark: RunMark, extra: str = "") -> str:
    parts = [day(mark.started_at) + " UTC", mark.verdict, extra, mark.note, mark.run_id]
    return " · ".join(p for p in parts if p)


def _tick(value: float, unit: str) -> str:
    """An axis label: counts keep their fractions (0.25), the rest as the figure reads."""
    return f"{value:g}" if unit in ("count", "writes") else fmt.measured(value, unit)


@dataclass(frozen=True)
class _Frame:
    """A chart's plot area: ``n`` runs across, values from ``lo`` to ``hi`` up."""

    n: int
    lo: float
    hi: float
    pw: float = W - LEFT - RIGHT
    ph: float = H - TOP - BOTTOM

    def x(self, i: int) -> float:
        return LEFT + (self.pw * i / (self.n - 1) if self.n > 1 else self.pw / 2)

    def y(self, v: float) -> float:
        return TOP + self.ph - (v - self.lo) / (self.hi - self.lo) * self.ph


def chart(trend: FigureTrend, runs: Sequence[RunMark]) -> Markup:
    """One figure over the runs: band, values, outside points, flips, links."""
    f = trend.figure
    n = len(trend.points)
    ys = [v for p in trend.points for v in (p.value, p.low, p.high) if v is not None]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if hi - lo < 1e-9:  # a flat line: give it some room
        pad = 0.001 if f.unit == "ratio" else 1.0
        lo, hi = lo - pad, hi + pad
    ticks = nice_ticks(lo, hi, 4)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    # the axis as the figure can be: no negative time or count, no availability above 100 %
    lo, hi = (lo, min(hi, 1.0)) if f.unit == "ratio" else (max(lo, 0.0), hi)
    if hi - lo < 1e-9:
        hi = lo + (0.001 if f.unit == "ratio" else 1.0)
    fr = _Frame(n, lo, hi)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" role="img" aria-label="{escape(f.label)}" class="chart">',
        f"<title>{escape(f.label)} over {n} runs</title>",
        f'<text x="{LEFT}" y="14" class="ct">{escape(f.label)}'
        f"{' (lower is better)' if f.better == 'lower' else ' (higher is better)'}</text>",
        f'<rect x="{LEFT}" y="{TOP}" width="{fr.pw}" height="{fr.ph}" fill="#fff" stroke="#bbb"/>',
    ]
    for t in ticks:
        if fr.lo <= t <= fr.hi:
            out.append(
                f'<line x1="{LEFT}" x2="{LEFT + fr.pw}" y1="{fr.y(t):.1f}" y2="{fr.y(t):.1f}" '
                'stroke="#eee"/>'
            )
            out.append(
                f'<text x="{LEFT - 4}" y="{fr.y(t) + 4:.1f}" class="yt">'
                f"{escape(_tick(t, f.unit))}</text>"
            )
    out += _band(trend, fr) + _flips(runs, fr) + _values(trend, runs, fr)
    if runs:
        out.append(
            f'<text x="{LEFT}" y="{H - 6}" class="xt">{escape(day(runs[0].started_at))}</text>'
        )
        out.append(
            f'<text x="{LEFT + fr.pw}" y="{H - 6}" class="xt" text-anchor="end">'
            f"{escape(day(runs[-1].started_at))}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def _band(trend: FigureTrend, fr: _Frame) -> list[str]:
    """The band, as runs of consecutive points that have one."""
    out: list[str] = []
    segment: list[tuple[int, float, float]] = []
    for p in [*trend.points, None]:
        if p is not None and p.low is not None and p.high is not None:
            segment.append((p.index, p.low, p.high))
            continue
        if segment:
            upper = " ".join(f"{fr.x(i):.1f},{fr.y(min(h, fr.hi)):.1f}" for i, _, h in segment)
            lower = " ".join(
                f"{fr.x(i):.1f},{fr.y(max(lw, fr.lo)):.1f}" for i, lw, _ in reversed(segment)
            )
            out.append(
                f'<polygon points="{upper} {lower}" fill="{BAND_COLOUR}" '
                'stroke="none"><title>noise band (median ± k·MAD of the runs before)'
                "</title></polygon>"
            )
            segment = []
    return out


def _flips(runs: Sequence[RunMark], fr: _Frame) -> list[str]:
    """A dashed line where the verdict differs from the run before."""
    return [
        f'<line x1="{fr.x(mark.index):.1f}" x2="{fr.x(mark.index):.1f}" y1="{TOP}" '
        f'y2="{TOP + fr.ph}" stroke="{FLIP_COLOUR}" stroke-dasharray="3,3" '
        f'class="flip"><title>verdict {escape(mark.flip)}</title></line>'
        for mark in runs
        if mark.flip
    ]


def _values(trend: FigureTrend, runs: Sequence[RunMark], fr: _Frame) -> list[str]:
    """The values' line, and a dot per run linking to its report."""
    f = trend.figure
    out: list[str] = []
    line = [f"{fr.x(p.index):.1f},{fr.y(p.value):.1f}" for p in trend.points if p.value is not None]
    if len(line) > 1:
        out.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{VALUE_COLOUR}" '
            'stroke-width="1.5"/>'
        )
    for p, mark in zip(trend.points, runs, strict=True):
        if p.value is None:
            continue
        colour = OUTSIDE_COLOUR if p.outside else VALUE_COLOUR
        fill = "#fff" if mark.busy else colour
        extra = f"{f.label} {fmt.measured(p.value, f.unit)}"
        if p.low is not None and p.high is not None:
            extra += f" (band {fmt.measured(p.low, f.unit)} … {fmt.measured(p.high, f.unit)})"
        if p.outside:
            extra += ": outside the band"
        dot = (
            f'<circle cx="{fr.x(p.index):.1f}" cy="{fr.y(p.value):.1f}" '
            f'r="{4 if p.outside else 3}" fill="{fill}" stroke="{colour}" stroke-width="1.5" '
            f'class="{"outside" if p.outside else "pt"}"><title>{escape(_tip(mark, extra))}'
            "</title></circle>"
        )
        out.append(f'<a href="{escape(mark.link)}">{dot}</a>' if mark.link else dot)
    return out


def _panel(t: ScenarioTrend) -> dict[str, object]:
    last = t.runs[-1] if t.runs else None
    return {
        "scenario": t.scenario,
        "runs": t.runs,
        "count": len(t.runs),
        "flips": t.flips,
        "busy": sum(1 for r in t.runs if r.busy),
        "env_classes": ", ".join(t.env_classes),
        "last": last,
        "outside": sum(1 for f in t.figures for p in f.points if p.outside),
        "charts": [chart(f, t.runs) for f in t.figures],
        "tips": [_tip(r) for r in t.runs],
    }


def render_trend_html(trends: Sequence[ScenarioTrend], info: TrendInfo) -> str:
    return _ENV.get_template("trend.html").render(
        info=info,
        panels=[_panel(t) for t in trends],
        colours=VERDICT_COLOUR,
        band=BAND_COLOUR,
        value=VALUE_COLOUR,
        outside=OUTSIDE_COLOUR,
        flip=FLIP_COLOUR,
    )
