"""The report's view inside the stack: container metrics and the stack's own series.

Pure: the summary's ``containers`` and ``stack_metrics`` sections in, charts
(inline SVG, the same fault windows shaded as the latency chart) and rows out.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.summary_model import Summary
from harness.report import fmt
from harness.report.charts import PALETTE, Series, Window, downsample, escape, time_chart


def _label(service: str, replica: int) -> str:
    return f"{service}.{replica}" if replica else service


def container_charts(s: Summary, windows: Sequence[Window]) -> list[str]:
    """Per service: CPU (% of one core) and memory (MiB) of each replica over time."""
    c = s.containers
    if c is None or not c.timeseries.t:
        return []
    x = [t + c.timeseries.step_s / 2 for t in c.timeseries.t]  # each bucket at its middle
    by_service: dict[str, list[tuple[str, list[float | None], list[float | None]]]] = {}
    for r in c.timeseries.replicas:
        by_service.setdefault(r.service, []).append(
            (_label(r.service, r.replica), r.cpu_pct, r.mem_mib)
        )
    out = []
    for service, rows in by_service.items():
        for what, unit, pick in (("CPU", "% of one core", 1), ("memory", "MiB", 2)):
            series = []
            for i, row in enumerate(rows):
                xs, ys = downsample(x, row[pick], how="max")  # type: ignore[arg-type]
                series.append(Series(str(row[0]), xs, ys, PALETTE[i % len(PALETTE)]))
            title = f"{service}: {what} per replica ({unit})"
            out.append(_captioned(title, time_chart(title, series, windows, s.end_s, unit)))
    return out


def stack_charts(s: Summary, windows: Sequence[Window]) -> list[str]:
    """One chart per selector of stack.metrics: every series it matched."""
    m = s.stack_metrics
    if m is None or not m.series:
        return []
    groups: dict[tuple[int, str], list[Series]] = {}
    for sr in m.series:
        lines = groups.setdefault((sr.endpoint, sr.selector), [])
        extra = ",".join(f"{k}={v}" for k, v in sorted(sr.labels.items()))
        label = f"{_label(sr.service, sr.replica)} {extra}".strip()
        xs, ys = downsample(sr.t, list(sr.values), how="max")
        lines.append(Series(label, xs, ys, PALETTE[len(lines) % len(PALETTE)]))
    return [
        _captioned(
            f"{selector} (scraped)",
            time_chart(f"{selector} (scraped)", lines, windows, s.end_s, "value"),
        )
        for (_, selector), lines in groups.items()
    ]


def _captioned(title: str, svg: str) -> str:
    return f'<h3 class="chart">{escape(title)}</h3>\n{svg}'


REPLICA_HEAD = ["replica", "containers", "metrics stopped (s since t0)", "restarts", "health"]


def replica_rows(s: Summary) -> list[tuple[str, ...]]:
    """Per replica: its containers, when its metrics stopped and resumed, restarts, health."""
    c = s.containers
    if c is None:
        return []
    rows: list[tuple[str, ...]] = []
    for r in c.replicas:
        down = ", ".join(f"{a:.1f} → {b:.1f}" for a, b in r.down) or "—"
        health = " → ".join(f"{h or 'none'} @{t:.1f}" for t, h in r.health) or "—"
        rows.append(
            (
                _label(r.service, r.replica),
                ", ".join(r.containers),
                down,
                fmt.num(r.restarts),
                health,
            )
        )
    return rows


FAULT_HEAD = ["fault", "service", "CPU p95 %", "CPU max %", "memory max", "net rx", "net tx"]


def _mib(v: float | None) -> str:
    return "—" if v is None else f"{v / 2**20:.1f} MiB"


def _rate(v: float | None) -> str:
    return "—" if v is None else f"{v / 1024:.1f} KiB/s"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def fault_rows(s: Summary) -> list[tuple[str, ...]]:
    """Per fault and service: CPU, memory and network during the fault's window."""
    c = s.containers
    if c is None:
        return []
    rows: list[tuple[str, ...]] = []
    for f in s.faults:
        for service, stats in c.services.items():
            st = stats.faults.get(f.key)
            if st is None:
                continue
            rows.append(
                (
                    f.key,
                    service,
                    _pct(st.cpu_pct.get("p95")),
                    _pct(st.cpu_pct.get("max")),
                    _mib(st.mem_bytes.get("max")),
                    _rate(st.net_rx_bps),
                    _rate(st.net_tx_bps),
                )
            )
    return rows


SERIES_HEAD = ["series", "changes (t: value)"]


def series_rows(s: Summary) -> list[tuple[str, str]]:
    """Per selected series: where its value changed (a backend going down and up)."""
    m = s.stack_metrics
    if m is None:
        return []
    rows = []
    for sr in m.series:
        extra = ",".join(f'{k}="{v}"' for k, v in sorted(sr.labels.items()))
        changes = sr.changes[1:21]  # the first entry is the starting value
        text = ", ".join(f"{t:.1f}: {v:g}" for t, v in changes)
        if len(sr.changes) > 21:
            text += f" … ({len(sr.changes) - 1} in all)"
        start = f"starts at {sr.changes[0][1]:g}" if sr.changes else "no sample"
        rows.append(
            (f"{_label(sr.service, sr.replica)} {sr.name}{{{extra}}}", f"{start}; {text or '—'}")
        )
    return rows
