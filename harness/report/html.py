"""The self-contained HTML report: one file, inline CSS and SVG, no script, nothing fetched."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from harness.analysis.phases import PHASES
from harness.analysis.summary_model import Summary
from harness.analysis.swarm import replaced_text
from harness.report import fmt
from harness.report.audit_section import AUDIT_HEAD, audit_lines
from harness.report.charts import (
    PALETTE,
    RECOVERY_FILL,
    WINDOW_FILL,
    Series,
    Window,
    downsample,
    percentile_chart,
    time_chart,
)
from harness.report.consistency_section import WITNESS_HEAD, consistency_rows, witnesses
from harness.report.guards_section import STEADY_HEAD, abort_rows, steady_rows
from harness.report.inside_section import (
    FAULT_HEAD,
    REPLICA_HEAD,
    SERIES_HEAD,
    container_charts,
    fault_rows,
    replica_rows,
    series_rows,
    stack_charts,
)
from harness.report.isolation_section import ISOLATION_HEAD, isolation_lines

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  color:#222;background:#f6f7f9}
main{max-width:960px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;
  border-bottom:1px solid #ddd;padding-bottom:4px}
.banner{padding:14px 18px;border-radius:6px;color:#fff;font-size:20px;font-weight:600}
.pass{background:#1a7f37}.fail{background:#cf222e}.error{background:#8250df}
.interrupted{background:#9a6700}.unchecked{background:#57606a}.aborted{background:#bc4c00}
.banner small{display:block;font-size:13px;font-weight:400;opacity:.95}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.kpi{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:130px}
.kpi b{display:block;font-size:18px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px}
.warn li{margin:2px 0}
svg{background:#fff;border:1px solid #ddd;border-radius:4px;margin:6px 0;max-width:100%;
  height:auto}
svg .g{stroke:#e5e5e5}svg text{font:11px system-ui,sans-serif;fill:#444}
svg .ya{text-anchor:end}svg .xa{text-anchor:middle}svg .wl{font-size:10px;fill:#333}
svg .lg{font-size:11px}
code{font-size:12px}h3.chart{font-size:13px;margin:14px 0 0;font-weight:600}
"""


def escape(text: str) -> str:
    """HTML-escaped text with control characters shown as escapes (see fmt.printable)."""
    return html.escape(fmt.printable(text))


def html_table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="n"' if i in numeric else ""
            cells.append(f"<td{cls}>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(head)}">none</td></tr>')
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _banner(s: Summary) -> str:
    verdict = s.verdict
    run = s.run
    reasons = "; ".join(s.verdict_reasons) or (
        f"{s.checks_passed} of {len(s.checks)} checks passed"
    )
    expect = fmt.expect_line(s)
    if expect and s.expect is not None and s.expect.verdict == "pass":
        expect = ""  # the default: the verdict itself says it
    return (
        f'<div class="banner {escape(verdict)}" id="verdict">{escape(fmt.verdict_text(verdict))} · '
        f"{escape(str(run.scenario or '?'))}"
        f"<small>{escape(reasons)}</small>"
        + (f'<small id="expect">{escape(expect)}</small>' if expect else "")
        + "</div>"
    )


def _kpis(s: Summary) -> str:
    h = s.headline
    items = [
        ("requests", fmt.num(h.requests)),
        ("availability", fmt.pct(h.availability)),
        (f"p99 ({s.latency_kind})", fmt.ms(h.p99_ms)),
        ("throughput", f"{fmt.num(h.throughput_rps)} req/s"),
        ("longest failure span", fmt.secs(s.longest_failure_span.seconds)),
    ]
    cells = "".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>' for k, v in items)
    return f'<div class="kpis">{cells}</div>'


def _notices(s: Summary) -> str:
    items = [f"<li><b>error:</b> {escape(e)}</li>" for e in s.errors]
    items += [f"<li>{escape(w)}</li>" for w in s.warnings]
    return f'<div class="warn"><ul>{"".join(items)}</ul></div>' if items else ""


def _checks(s: Summary) -> str:
    rows = [
        (
            '<span class="ok">pass</span>' if c.passed else '<span class="bad">FAIL</span>',
            escape(c.name),
            escape(c.phase),
            escape(fmt.measured(c.measured, c.unit)),
            escape(fmt.measured(c.threshold, c.unit)),
            escape(c.detail or ""),
        )
        for c in s.checks
    ]
    return html_table(["", "check", "phase", "measured", "threshold", "note"], rows, {3, 4})


def _guards(s: Summary) -> str:
    """Abort and steady-state sections (harness/report/guards_section.py)."""
    out = ""
    if (rows := abort_rows(s)) is not None:
        cells = [(escape(k), escape(v)) for k, v in rows]
        out += '<h2 id="abort">Abort</h2>' + html_table(["stop condition", ""], cells, set())
    if (steady := steady_rows(s)) is not None:
        cells2 = [tuple(escape(c) for c in row) for row in steady]
        out += '<h2 id="steady-state">Steady state</h2>' + html_table(STEADY_HEAD, cells2, {4})
    return out


def _durability(s: Summary) -> str:
    d = s.durability
    if d is None:
        return ""
    rows = [(escape(k), escape(v)) for k, v in fmt.durability_rows(d)]
    return "<h2>Durability</h2>" + html_table(["read-back after the faults", ""], rows, {1})


def _consistency(s: Summary) -> str:
    c = s.consistency
    if c is None:
        return ""
    rows = [(escape(k), escape(v)) for k, v in consistency_rows(c)]
    out = '<h2 id="consistency">Consistency</h2>' + html_table(["history checks", ""], rows, set())
    for w in witnesses(c):
        cells = [tuple(escape(x) for x in row) for row in w.rows]
        out += (
            f"<h3>{escape(w.kind)} · key {escape(w.key)}</h3><p>{escape(w.text)}</p>{w.svg}"
            + html_table(WITNESS_HEAD, cells, {3, 4})
        )
    return out


def _faults(s: Summary) -> str:
    rows = [
        (
            escape(f.key),
            escape(f.type),
            escape(", ".join(f.targets)),
            escape(fmt.secs(f.injected_s)),
            escape(fmt.secs(f.reverted_s)),
            escape(fmt.secs(f.detection_s)),
            escape(fmt.num(f.failures)),
            escape(fmt.secs(f.outage_s)),
            escape(fmt.secs(f.ttr_s)),
            escape(fmt.ratio_x(f.p99_inflation)),
            escape(fmt.recovered_text(f)),
        )
        for f in s.faults
    ]
    head = [
        "fault",
        "type",
        "targets",
        "injected",
        "reverted",
        "detection",
        "failures",
        "outage",
        "time to recover",
        "p99 inflation",
        "recovered",
    ]
    return html_table(head, rows, {3, 4, 5, 6, 7, 8, 9})


def _replicas(s: Summary) -> str:
    """The platform's own view (Swarm, Kubernetes): time to the desired replica count."""
    if not s.swarm:
        return ""
    t0 = float(s.run.t0_wall or 0.0)
    rows = [
        (
            escape(r.key) + (" ⚠️" if r.disagree else ""),
            escape(str(r.service)),
            escape(fmt.num(r.desired)),
            escape(fmt.secs(r.time_to_desired_s)),
            escape(fmt.secs(r.load_recovery_s)),
            escape(replaced_text(r.model_dump(), t0)),
            escape(r.note),
        )
        for r in s.swarm
    ]
    head = ["fault", "service", "desired", "to desired", "load recovered", "replaced by", "note"]
    return "<h2>Time to the desired replica count (the platform's own view)</h2>" + html_table(
        head, rows, {2, 3, 4}
    )


def _phases(s: Summary) -> str:
    kind = s.latency_kind
    rows = []
    for name in ("overall", *PHASES):
        m = s.metrics[name]
        lat = m.latency_ms.of(kind)
        errors = ", ".join(f"{k} {fmt.pct(v, 2)}" for k, v in m.error_rate.items())
        rows.append(
            (
                escape(name),
                escape(fmt.secs(m.duration_s)),
                escape(fmt.num(m.requests)),
                escape(fmt.pct(m.availability)),
                escape(errors or "—"),
                escape(fmt.num(m.throughput_rps)),
                *(escape(fmt.ms(lat.get(k))) for k in ("p50", "p90", "p95", "p99", "p99.9", "max")),
            )
        )
    head = ["phase", "duration", "requests", "availability", "errors", "req/s"]
    head += ["p50", "p90", "p95", "p99", "p99.9", "max"]
    return html_table(head, rows, set(range(1, 12)) - {4})


ABORT_FILL = "#bc4c00"  # the aborted banner colour


def _windows(s: Summary) -> list[Window]:
    end = s.end_s
    out = []
    for i, f in enumerate(x for x in s.faults if x.applied):
        out.append(Window(f.injected_s, f.window_end_s, f.key, WINDOW_FILL[i % len(WINDOW_FILL)]))
        if f.recovery_from_s is not None:
            until = f.recovered_at_s if f.recovered_at_s is not None else end
            if until > f.recovery_from_s:
                out.append(Window(f.recovery_from_s, until, "recovering", RECOVERY_FILL))
    if (a := s.abort) is not None:  # condition held → every fault reverted, on the timeline
        until = a.reverted_s if a.reverted_s is not None else a.aborted_s
        out.append(Window(a.condition_s, max(until, a.condition_s + 0.05), "abort", ABORT_FILL))
    return out


def _charts(s: Summary) -> str:
    ts, end, windows = s.timeseries, s.end_s, _windows(s)
    if not ts.t:
        return "<p>No measured request, so there is nothing to plot.</p>"
    step = ts.step_s  # seconds per bucket: 1 up to 2 h runs
    x = [t + step / 2 for t in ts.t]  # plot each bucket at its middle

    def series(values: Sequence[float | None], label: str, color: str, how: str = "mean") -> Series:
        xs, ys = downsample(x, values, how=how)
        return Series(label, xs, ys, color)

    per_s = ts.requests if step == 1 else [n / step for n in ts.requests]
    throughput = time_chart(
        "Throughput (requests per second)",
        [series(per_s, "requests/s", PALETTE[0])],
        windows,
        end,
        "req/s",
    )
    rates = [None if r is None else r * 100 for r in ts.error_rate]
    xs, ys = downsample(x, rates, how="max")
    errors = time_chart(
        "Error rate (% of requests)", [Series("error %", xs, ys, PALETTE[1])], windows, end, "%"
    )
    latency = time_chart(
        "Latency per second (raw, ms)" if step == 1 else f"Latency per {step} s (raw, ms)",
        [
            series(ts.p50_ms, "p50", PALETTE[2], "max"),
            series(ts.p90_ms, "p90", PALETTE[4], "max"),
            series(ts.p99_ms, "p99", PALETTE[1], "max"),
            series(ts.max_ms, "max", PALETTE[3], "max"),
        ],
        windows,
        end,
        "ms",
    )
    inside = container_charts(s, windows) + stack_charts(s, windows)
    if inside:  # under the latency chart, with the same fault windows shaded
        inside = ['<div id="inside-charts">', *inside, "</div>"]
    return "\n".join([throughput, errors, latency, *inside])


def _inside(s: Summary) -> str:
    """Tables of the container metrics and the stack's own series (charts are above)."""
    if s.containers is None and s.stack_metrics is None:
        return ""
    out = '<h2 id="inside">Inside the stack</h2>'
    if s.containers is not None:
        rows = [tuple(escape(c) for c in r) for r in replica_rows(s)]
        out += "<p>Containers (engine stats about every second)</p>"
        out += html_table(REPLICA_HEAD, rows, {3})
        frows = [tuple(escape(c) for c in r) for r in fault_rows(s)]
        if frows:
            out += "<p>During each fault window</p>" + html_table(
                FAULT_HEAD, frows, {2, 3, 4, 5, 6}
            )
    if s.stack_metrics is not None and s.stack_metrics.series:
        srows = [tuple(escape(c) for c in r) for r in series_rows(s)]
        out += "<p>The stack's own metrics</p>" + html_table(SERIES_HEAD, srows, set())
    return out


def _distribution(s: Summary) -> str:
    dist = s.latency_distribution
    curves = []
    if dist.raw:
        curves.append(("raw", dist.raw, PALETTE[0]))
    if dist.corrected:
        curves.append(("corrected for coordinated omission", dist.corrected, PALETTE[1]))
    if not curves:
        return "<p>No latency recorded.</p>"
    return percentile_chart("Latency by percentile (ms)", curves)


SENDING_KEYS = ("sending_from_wall", "sending_until_wall")


def _sending(s: Summary) -> str:
    """When the generator sent, in s since t0 (the time series keep whole seconds of it)."""
    t0, gen = s.run.t0_wall, s.generator
    if t0 is None or gen.sending_from_wall is None or gen.sending_until_wall is None:
        return "—"
    return f"{gen.sending_from_wall - t0:.3f} s to {gen.sending_until_wall - t0:.3f} s after t0"


def _load_model(s: Summary) -> str:
    """``open, poisson arrivals``: Poisson arrivals add sampling noise to every figure."""
    model, arrivals = s.run.load_model, s.run.load_arrivals
    if not model:
        return "—"
    return f"{model}, {arrivals} arrivals" if arrivals else model


def _environment(s: Summary) -> str:
    run, env = s.run, s.environment
    images = env.images or {}
    # the keys run.json had, in order; the sending span is shown as offsets from t0
    generator = s.generator.model_dump(exclude_unset=True, exclude=set(SENDING_KEYS))
    rows: list[tuple[str, str]] = [
        ("hachaos", str(env.hachaos or s.generated_by)),
        ("git commit", str(env.git_commit or "—")),
        ("scenario", str(run.scenario or "—")),
        ("scenario file", str(run.scenario_file or "—")),
        ("scenario sha256", str(run.scenario_sha256 or "—")),
        ("seed", str(run.seed)),
        ("run id", str(run.run_id or "—")),
        ("load model", _load_model(s)),
        (
            "timing",
            f"warmup {run.warmup} s, duration {run.duration} s, cooldown {run.cooldown} s",
        ),
        ("outcome", str(run.outcome or "—")),
        ("expected verdict", fmt.expect_line(s).removeprefix("expect: ") or "—"),
        ("engine", str(env.engine_version or "—")),
        ("compose", str(env.compose_version or "—")),
        ("host cores", str(env.host_cores or "—")),
        ("python / platform", f"{env.python or '—'} / {env.platform or '—'}"),
        ("generator", ", ".join(f"{k}={v}" for k, v in generator.items()) or "—"),
        ("load sending", _sending(s)),
    ]
    rows += [(f"image {svc}", str(img)) for svc, img in sorted(images.items())]
    return html_table(["", ""], [(escape(k), f"<code>{escape(v)}</code>") for k, v in rows], set())


def _isolation(s: Summary) -> str:
    iso = isolation_lines(s)
    if iso is None:
        return ""
    rows = [tuple(escape(c) for c in row) for row in iso[1]]
    return f"<h2>Isolation</h2><p>{escape(iso[0])}</p>{html_table(ISOLATION_HEAD, rows, set())}"


def _audit(s: Summary) -> str:
    audit = audit_lines(s)
    if audit is None:
        return ""
    rows = [tuple(escape(c) for c in row) for row in audit[1]]
    table = html_table(AUDIT_HEAD, rows, set()) if rows else ""
    return f"<h2>Security audit</h2><p>{escape(audit[0])}</p>{table}"


def render_html(summary: Summary) -> str:
    """The report page of a run summary (see docs/summary-schema.md)."""
    s = summary
    title = f"hachaos · {s.run.scenario or 'run'} · {fmt.verdict_text(s.verdict)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        _banner(s),
        _kpis(s),
        _notices(s),
        "<h2>SLO checks</h2>",
        _checks(s),
        _guards(s),
        _durability(s),
        _consistency(s),
        _isolation(s),
        "<h2>Faults</h2>",
        _faults(s),
        _replicas(s),
        "<h2>Phases</h2>",
        _phases(s),
        "<h2>Time series</h2>",
        "<p>Shaded: each fault from injection to revert (labelled), then its recovery "
        "(yellow) until the first window meeting the recovery SLO.</p>",
        _charts(s),
        _inside(s),
        "<h2>Latency distribution</h2>",
        _distribution(s),
        "<h2>Environment</h2>",
        _environment(s),
        _audit(s),
        f"<p><small>{escape(s.generated_by)} · summary schema "
        f"{escape(s.schema_)}/{s.schema_version}</small></p>",
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p)
