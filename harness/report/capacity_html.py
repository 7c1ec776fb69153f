"""capacity.html: one offline page for a capacity experiment (inline CSS and SVG, no script).

Per configuration, the curves against the offered rate (achieved throughput,
p50/p99, errors) with and without the faults held, and every step; then the
scaling curve against linear and the variants side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.capacity.document import CapacityDocument, Configuration, SearchRecord
from harness.report import capacity_rows as rows
from harness.report import fmt
from harness.report.charts import PALETTE, Mark, Series, xy_chart
from harness.report.html import CSS, escape, html_table

_CONDITION_COLOURS = {"healthy": (PALETTE[0], PALETTE[2]), "degraded": (PALETTE[1], PALETTE[4])}


def _cells(row: Sequence[str]) -> list[str]:
    return [escape(c) for c in row]


def _banner(doc: CapacityDocument) -> str:
    reasons = "; ".join(doc.verdict_reasons) or (
        f"{sum(c.passed for c in doc.checks)} of {len(doc.checks)} checks passed"
    )
    return (
        f'<div class="banner {escape(doc.verdict)}" id="verdict">'
        f"{escape(fmt.verdict_text(doc.verdict))} · {escape(doc.scenario)}"
        f"<small>{escape(reasons)}</small></div>"
    )


def _notices(doc: CapacityDocument) -> str:
    items = [f"<li><b>error:</b> {escape(e)}</li>" for e in doc.errors]
    items += [f"<li>{escape(n)}</li>" for n in rows.generator_notes(doc.configurations)]
    return f'<div class="warn"><ul>{"".join(items)}</ul></div>' if items else ""


def _checks(doc: CapacityDocument) -> str:
    body = [
        (
            '<span class="ok">pass</span>' if c.passed else '<span class="bad">FAIL</span>',
            escape(c.name),
            escape(fmt.measured(c.measured, c.unit)),
            escape(fmt.measured(c.threshold, c.unit)),
            escape(c.detail),
        )
        for c in doc.checks
    ]
    return "<h2>Checks</h2>" + html_table(
        ["", "check", "measured", "threshold", "note"], body, {2, 3}
    )


def _marks(config: Configuration, peak: float | None) -> list[Mark]:
    marks = []
    for search in (config.healthy, config.degraded):
        if search is not None and search.capacity is not None:
            colour = _CONDITION_COLOURS[search.condition][0]
            marks.append(Mark(search.capacity, f"{search.condition} {search.capacity:g}/s", colour))
    if peak is not None and config.degraded is not None:
        marks.append(Mark(peak, f"peak {peak:g}/s", "#57606a"))
    return marks


def _measured(search: SearchRecord) -> list[tuple[float, float, float | None, float | None, float]]:
    """(offered, achieved, p50, p99, error %) of the steps that measured the stack."""
    out = []
    for s in search.steps:
        if s.verdict.verdict == "generator":
            continue
        m = s.measure
        out.append(
            (
                s.rate,
                m.achieved_rps,
                m.latency_ms.get("p50"),
                m.latency_ms.get("p99"),
                (m.error_rate or 0.0) * 100,
            )
        )
    return out


def _curves(config: Configuration, peak: float | None) -> str:
    searches = [s for s in (config.healthy, config.degraded) if s is not None]
    throughput, latency, errors = [], [], []
    offered: list[float] = []
    for search in searches:
        points = _measured(search)
        if not points:
            continue
        main, second = _CONDITION_COLOURS[search.condition]
        x = [p[0] for p in points]
        offered += x
        name = search.condition
        throughput.append(Series(f"achieved, {name}", x, [p[1] for p in points], main))
        latency.append(Series(f"p99, {name}", x, [p[3] for p in points], main))
        latency.append(Series(f"p50, {name}", x, [p[2] for p in points], second))
        errors.append(Series(f"errors, {name}", x, [p[4] for p in points], main))
    if not offered:
        return "<p>No step measured the stack, so there is nothing to plot.</p>"
    line = sorted(set(offered))
    throughput.insert(0, Series("offered", line, line, "#bbbbbb"))
    marks = _marks(config, peak)
    label = "offered requests/s"
    return (
        xy_chart("Achieved vs offered throughput (ok answers/s)", throughput, label, "req/s", marks)
        + xy_chart("Corrected latency vs offered load (ms)", latency, label, "ms", marks)
        + xy_chart("Errors vs offered load (% of arrivals)", errors, label, "%", marks)
    )


def _steps(search: SearchRecord) -> str:
    title = f"{search.condition}" + (
        f" (held: {', '.join(search.faults)})" if search.faults else ""
    )
    body = [_cells(rows.step_row(s)) for s in search.steps]
    return (
        f"<h3>Steps, {escape(title)}: {escape(rows.capacity_text(search))}</h3>"
        f"<p>{escape(rows.stop_text(search))}; {fmt.secs(search.took_s)}</p>"
        + html_table(rows.step_head(), body, set(range(2, 13)) | {15})
    )


def _configuration(config: Configuration, peak: float | None) -> str:
    out = f"<h2>{escape(config.label)}</h2>"
    if config.error:
        return out + f'<div class="warn">error: {escape(config.error)}</div>'
    room = config.headroom
    if room is not None and room.n_plus_1 is not None:
        out += f"<p><b>N+1 {escape(room.n_plus_1)}</b>: {escape(room.evidence)}</p>"
    out += _curves(config, peak)
    for search in (config.healthy, config.degraded):
        if search is not None:
            out += _steps(search)
    return out


def _scaling(doc: CapacityDocument) -> str:
    if not doc.scaling:
        return ""
    out = f"<h2>Scaling: {escape(doc.scaled_service or '')}</h2>"
    series = []
    for i, table in enumerate(doc.scaling):
        body = [_cells(r) for r in rows.scaling_table_rows(table)]
        out += f"<h3>{escape(table.variant)}</h3>" + html_table(
            rows.scaling_head(), body, {1, 2, 3, 4}
        )
        x = [float(r.replicas) for r in table.rows]
        colour = PALETTE[(2 * i) % len(PALETTE)]
        series.append(
            Series(f"capacity, {table.variant}", x, [r.capacity for r in table.rows], colour)
        )
        series.append(
            Series(f"linear, {table.variant}", x, [r.linear for r in table.rows], "#bbbbbb")
        )
    counts = sorted({r.replicas for t in doc.scaling for r in t.rows})
    return out + xy_chart(
        "Capacity vs replicas", series, "replicas", "req/s", x_ticks=[float(n) for n in counts]
    )


def _variants(doc: CapacityDocument) -> str:
    names = list(dict.fromkeys(c.variant for c in doc.configurations))
    if len(names) < 2:
        return ""
    body = [_cells(r) for r in rows.variant_rows(doc)]
    return "<h2>Variants</h2>" + html_table(rows.variant_head(names[0]), body, {2, 3, 4})


def render_capacity_html(doc: CapacityDocument) -> str:
    """The experiment's page."""
    title = f"hachaos capacity · {doc.scenario} · {fmt.verdict_text(doc.verdict)}"
    summary = [_cells(r) for r in rows.summary_rows(doc)]
    setup = [(escape(k), escape(v)) for k, v in rows.setup_rows(doc)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        _banner(doc),
        _notices(doc),
        "<h2>Capacity</h2>",
        "<p>Capacity: the highest offered rate whose step met every SLO; the limit lies"
        " below the first bad rate. ≥: a lower bound (the search stopped before the"
        " limit).</p>",
        html_table(rows.summary_head(), summary, {1, 2, 3, 6, 7}),
        _checks(doc) if doc.checks else "",
        _variants(doc),
        _scaling(doc),
        *(_configuration(c, doc.peak) for c in doc.configurations),
        "<h2>Setup</h2>",
        html_table(["", ""], setup, set()),
        f"<p><small>capacity schema {escape(doc.schema_)}/{doc.version} · run"
        f" {escape(doc.run_id)}</small></p>",
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p)
