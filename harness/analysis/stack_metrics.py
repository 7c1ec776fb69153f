"""The stack's own metrics (stack_metrics.parquet): the selected series, per phase and per fault.

Pure. Each ``stack.metrics[].series`` selector picks the samples of its endpoint
whose name and labels match; each distinct (replica, name, labels) is one series.
Per span a series gives the ``min``, ``max`` and ``last`` scraped value (``first``
too per fault), and ``changes`` lists every scrape whose value differs from the
one before (a backend going down and up shows as two changes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harness.scenario.models import MetricsEndpoint
from harness.scenario.series import parse_selector

MAX_SERIES = 60  # charted and summarised, over all selectors
MAX_CHANGES = 200  # per series
MAX_POINTS = 1200  # per series in summary.json

Span = tuple[float, float]


def _span_values(t: np.ndarray[Any, Any], v: np.ndarray[Any, Any], spans: Sequence[Span]) -> Any:
    inside = np.zeros(len(t), dtype=bool)
    for a, b in spans:
        inside |= (t >= a) & (t < b)
    vals = v[inside]
    if not len(vals):
        return {"min": None, "max": None, "first": None, "last": None}
    return {
        "min": float(vals.min()),
        "max": float(vals.max()),
        "first": float(vals[0]),
        "last": float(vals[-1]),
    }


def _changes(t: np.ndarray[Any, Any], v: np.ndarray[Any, Any]) -> list[list[float]]:
    out: list[list[float]] = []
    for i in range(len(v)):
        if i == 0 or v[i] != v[i - 1]:
            out.append([round(float(t[i]), 3), float(v[i])])
            if len(out) >= MAX_CHANGES:
                break
    return out


def _thin(t: np.ndarray[Any, Any], v: np.ndarray[Any, Any]) -> tuple[list[float], list[float]]:
    step = max(int(np.ceil(len(t) / MAX_POINTS)), 1)
    return [round(float(x), 3) for x in t[::step]], [float(x) for x in v[::step]]


def select_series(
    frame: pd.DataFrame,
    endpoints: Sequence[MetricsEndpoint],
    t0_wall: float,
    end_s: float,
    phase_spans: Mapping[str, Sequence[Span]],
    fault_spans: Mapping[str, Span],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The selected series with their statistics, and a warning per selector that matched none."""
    series: list[dict[str, Any]] = []
    warnings: list[str] = []
    df = frame.assign(t=frame["wall"].astype(float) - t0_wall)
    df = df[(df["t"] >= 0) & (df["t"] <= end_s)].sort_values("t", kind="stable")
    for i, ep in enumerate(endpoints):
        own = df[df["endpoint"] == i]
        names = set(own["name"].unique()) if len(own) else set()
        for text in ep.series:
            sel = parse_selector(text)
            rows = own[own["name"] == sel.name] if sel.name in names else own.iloc[0:0]
            keys = [
                (int(r), lbl)
                for r, lbl in rows[["replica", "labels"]].drop_duplicates().itertuples(index=False)
                if sel.matches(sel.name, json.loads(lbl))
            ]
            if not keys:
                warnings.append(
                    f"stack metrics: {ep.service}:{ep.port}{ep.path}: series {text} matched "
                    "no scraped sample"
                )
            for replica, labels in sorted(keys):
                if len(series) >= MAX_SERIES:
                    warnings.append(f"stack metrics: only the first {MAX_SERIES} series are kept")
                    return series, warnings
                one = rows[(rows["replica"] == replica) & (rows["labels"] == labels)]
                t = one["t"].to_numpy(dtype=np.float64)
                v = one["value"].to_numpy(dtype=np.float64)
                xs, ys = _thin(t, v)
                series.append(
                    {
                        "endpoint": i,
                        "selector": text,
                        "service": ep.service,
                        "replica": replica,
                        "name": sel.name,
                        "labels": json.loads(labels),
                        "phases": {
                            name: _span_values(t, v, spans) for name, spans in phase_spans.items()
                        },
                        "faults": {key: _span_values(t, v, [s]) for key, s in fault_spans.items()},
                        "changes": _changes(t, v),
                        "t": xs,
                        "values": ys,
                    }
                )
    return series, warnings


def endpoint_warnings(status: Sequence[Mapping[str, Any]]) -> list[str]:
    """A warning per endpoint that failed at least once (unreachable, HTTP error, bad text)."""
    out = []
    for st in status:
        failed, scrapes = int(st.get("failed") or 0), int(st.get("scrapes") or 0)
        if not failed:
            continue
        where = f"{st.get('service')}:{st.get('port')}{st.get('path')}"
        how = "never scraped" if failed >= scrapes else f"{failed} of {scrapes} scrapes failed"
        out.append(f"stack metrics: {where}: {how} (last: {st.get('last_error')})")
    return out


def analyse_stack_metrics(
    frame: pd.DataFrame | None,
    endpoints: Sequence[MetricsEndpoint],
    status: Sequence[Mapping[str, Any]],
    t0_wall: float,
    end_s: float,
    phase_spans: Mapping[str, Sequence[Span]],
    fault_spans: Mapping[str, Span],
) -> tuple[dict[str, Any] | None, list[str]]:
    """The summary's ``stack_metrics`` section and its warnings; None without endpoints."""
    if not endpoints and not status:
        return None, []
    warnings = endpoint_warnings(status)
    series: list[dict[str, Any]] = []
    if frame is not None and not frame.empty:
        series, more = select_series(frame, endpoints, t0_wall, end_s, phase_spans, fault_spans)
        warnings += more
    return {"endpoints": [dict(s) for s in status], "series": series}, warnings
