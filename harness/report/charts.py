"""Inline SVG charts: time series with shaded fault windows, and the latency percentile plot.

Pure functions returning SVG text, so the HTML report stays one offline file
with no script at all (``<title>`` elements give hover tooltips for free).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape as _html_escape

from harness.report.fmt import printable


def escape(text: str) -> str:
    """Escaped for SVG/XML, control characters shown as escapes (see fmt.printable)."""
    return _html_escape(printable(text))


WIDTH, HEIGHT = 920, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 36
MAX_POINTS = 1200  # longer series are bucketed so the file stays small

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
WINDOW_FILL = ("#f4a582", "#92c5de", "#b2df8a", "#fdbf6f", "#cab2d6")
RECOVERY_FILL = "#fff2ae"


@dataclass(frozen=True)
class Series:
    """One line: y values at x positions; None leaves a gap."""

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    color: str


@dataclass(frozen=True)
class Window:
    """A shaded time span with a label (a fault in effect, or a recovery)."""

    start: float
    end: float
    label: str
    fill: str


def _svg_open(title: str, plot_w: float, plot_h: float) -> list[str]:
    """The opening of a chart: the svg element, its title and the plot frame."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        'stroke="#999"/>',
    ]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.3g}"


def downsample(
    x: Sequence[float], y: Sequence[float | None], limit: int = MAX_POINTS, how: str = "mean"
) -> tuple[list[float], list[float | None]]:
    """Bucket a long series to at most ``limit`` points (mean or max of each bucket)."""
    n = len(x)
    if n <= limit:
        return list(x), list(y)
    size = math.ceil(n / limit)
    xs: list[float] = []
    ys: list[float | None] = []
    for i in range(0, n, size):
        chunk = [v for v in y[i : i + size] if v is not None]
        xs.append(x[i])
        if not chunk:
            ys.append(None)
        else:
            ys.append(max(chunk) if how == "max" else sum(chunk) / len(chunk))
    return xs, ys


def _path(points: list[tuple[float, float] | None]) -> str:
    parts, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _legend(series: Sequence[Series], x0: float) -> list[str]:
    out, x = [], x0
    for s in series:
        out.append(f'<rect x="{x:.0f}" y="8" width="12" height="4" fill="{s.color}"/>')
        out.append(f'<text x="{x + 16:.0f}" y="14" class="lg">{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    return out


def _axes(
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    y_range: tuple[float, float],
    x_range: tuple[float, float],
    x_label: str,
    y_unit: str,
    x_ticks: Sequence[float] | None = None,
) -> list[str]:
    """Grid lines and tick labels of both axes, and the axis titles (``x_ticks``: these x
    labels instead of round numbers, e.g. the replica counts measured)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = []
    for v in nice_ticks(*y_range):
        y = sy(v)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="ya">{_fmt(v)}</text>')
    for v in x_ticks if x_ticks is not None else nice_ticks(*x_range, 10):
        x = sx(v)
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" class="xa">{_fmt(v)}</text>')
    out.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 4}" class="xa">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.0f}" class="xa" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2:.0f})">{escape(y_unit)}</text>'
    )
    return out


def time_chart(
    title: str,
    series: Sequence[Series],
    windows: Sequence[Window],
    x_end: float,
    y_unit: str,
    y_max: float | None = None,
) -> str:
    """A time-series chart (x in s since t0) with labelled, shaded windows."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ys = [v for s in series for v in s.y if v is not None]
    top = y_max if y_max is not None else (max(ys) if ys else 1.0)
    top = top * 1.08 if top > 0 else 1.0
    x_end = max(x_end, 1.0)

    def sx(v: float) -> float:
        return LEFT + plot_w * min(max(v, 0.0), x_end) / x_end

    def sy(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v, 0.0), top) / top)

    out = _svg_open(title, plot_w, plot_h)
    for w in windows:
        a, b = sx(w.start), sx(w.end)
        out.append(
            f'<rect x="{a:.1f}" y="{TOP}" width="{max(b - a, 1.5):.1f}" height="{plot_h}" '
            f'fill="{w.fill}" fill-opacity="0.45"><title>{escape(w.label)}: '
            f"{w.start:.2f}s → {w.end:.2f}s</title></rect>"
        )
        out.append(f'<text x="{a + 2:.1f}" y="{TOP + 11}" class="wl">{escape(w.label)}</text>')
    out += _axes(sx, sy, (0.0, top), (0.0, x_end), "seconds since t0", y_unit)
    for s in series:
        pts = [None if v is None else (sx(x), sy(v)) for x, v in zip(s.x, s.y, strict=True)]
        out.append(
            f'<path d="{_path(pts)}" fill="none" stroke="{s.color}" stroke-width="1.6">'
            f"<title>{escape(s.label)}</title></path>"
        )
    out.extend(_legend(series, LEFT + 4))
    out.append("</svg>")
    return "\n".join(out)


def _percentile_x(p: float) -> float:
    # HdrHistogram-style axis: each "nine" (90, 99, 99.9, ...) gets equal width.
    return -math.log10(max(1.0 - p / 100.0, 1e-5))


def percentile_chart(
    title: str, curves: Sequence[tuple[str, Sequence[Sequence[float]], str]]
) -> str:
    """Latency by percentile (x: 0 … 99.999 on a log-of-nines axis, y: ms)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [pt[1] for _, pts, _ in curves for pt in pts]
    top = (max(values) if values else 1.0) * 1.08 or 1.0
    x_max = _percentile_x(99.999)

    def sx(p: float) -> float:
        return LEFT + plot_w * min(_percentile_x(p), x_max) / x_max

    def sy(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    out = _svg_open(title, plot_w, plot_h)
    for v in nice_ticks(0.0, top):
        y = sy(v)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="ya">{_fmt(v)}</text>')
    for p in (0.0, 90.0, 99.0, 99.9, 99.99, 99.999):
        x = sx(p)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" class="g"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" class="xa">{p:g}%</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 4}" class="xa">percentile</text>')
    legend = []
    for label, pts, color in curves:
        path = _path([(sx(p), sy(v)) for p, v in pts])
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for p, v in pts:
            out.append(
                f'<circle cx="{sx(p):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(label)} p{p:g}: {v:g} ms</title></circle>"
            )
        legend.append(Series(label, [], [], color))
    out.extend(_legend(legend, LEFT + 4))
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True)
class Mark:
    """A labelled vertical line at one x value (a capacity, a peak rate)."""

    x: float
    label: str
    color: str


def xy_chart(
    title: str,
    series: Sequence[Series],
    x_label: str,
    y_unit: str,
    marks: Sequence[Mark] = (),
    x_ticks: Sequence[float] | None = None,
) -> str:
    """Lines with a dot at each point (x ascending), from 0 on both axes, with marks.

    The x axis is a quantity, not time: offered requests/s, replicas.
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [v for s in series for v in s.x] + [m.x for m in marks]
    ys = [v for s in series for v in s.y if v is not None]
    right = (max(xs) if xs else 1.0) * 1.05 or 1.0
    top = (max(ys) if ys else 1.0) * 1.08 or 1.0

    def sx(v: float) -> float:
        return LEFT + plot_w * min(max(v, 0.0), right) / right

    def sy(v: float) -> float:
        return TOP + plot_h * (1 - min(max(v, 0.0), top) / top)

    out = _svg_open(title, plot_w, plot_h)
    out += _axes(sx, sy, (0.0, top), (0.0, right), x_label, y_unit, x_ticks)
    for m in marks:
        x = sx(m.x)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{m.color}" '
            f'stroke-dasharray="4 3"><title>{escape(m.label)}</title></line>'
        )
        out.append(f'<text x="{x + 3:.1f}" y="{TOP + 11}" class="wl">{escape(m.label)}</text>')
    for s in series:
        order = sorted(range(len(s.x)), key=lambda i: s.x[i])
        pts = [None if s.y[i] is None else (sx(s.x[i]), sy(s.y[i] or 0.0)) for i in order]
        out.append(
            f'<path d="{_path(pts)}" fill="none" stroke="{s.color}" stroke-width="1.6">'
            f"<title>{escape(s.label)}</title></path>"
        )
        for i in order:
            value = s.y[i]
            if value is not None:
                out.append(
                    f'<circle cx="{sx(s.x[i]):.1f}" cy="{sy(value):.1f}" r="2.5" '
                    f'fill="{s.color}"><title>{escape(s.label)} at {_fmt(s.x[i])}: '
                    f"{_fmt(value)}</title></circle>"
                )
    out.extend(_legend(series, LEFT + 4))
    out.append("</svg>")
    return "\n".join(out)
