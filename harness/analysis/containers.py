"""Container metrics of a run (containers.parquet), per replica, per phase and per fault.

Pure: a frame in, plain dicts out (docs/metrics.md#container-metrics). Times are
seconds since t0; rows before t0 (warmup) are left out like warmup requests.

- A **round** is one sampler pass: every row of it has the same ``wall``.
- A replica (service + container number or task slot) is **up** in a round when
  one of its containers runs and has a fresh reading (non-null ``mem_bytes``);
  a **down** span runs from the first round it was not up to the next round it
  was (or to its last round).
- ``cpu_pct`` statistics are over the rows (one per replica per round) in the
  span; percentiles are nearest-rank: the ``⌈p·n/100⌉``-th smallest value.
  ``cpu_pct_sum`` is the service's total per round (replicas added up).
- Byte rates: the increase of each container's counter between its consecutive
  readings (a decrease, i.e. a restart, counts from 0), credited to the later
  row's time, summed over the span and divided by its length.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from harness.analysis.metrics import series_step

MAX_DOWN_SPANS = 100  # per replica
MAX_HEALTH_CHANGES = 100  # per replica
RATES: tuple[tuple[str, str], ...] = (
    ("net_rx", "net_rx_bps"),
    ("net_tx", "net_tx_bps"),
    ("blk_read", "blk_read_bps"),
    ("blk_write", "blk_write_bps"),
)

Span = tuple[float, float]


def nearest_rank(values: Sequence[float] | np.ndarray[Any, Any], p: float) -> float | None:
    """The ``⌈p·n/100⌉``-th smallest value (the smallest for p = 0); None when empty."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    if not len(v):
        return None
    rank = max(math.ceil(p * len(v) / 100.0 - 1e-9), 1)
    return float(v[rank - 1])


def prepare(frame: pd.DataFrame, t0_wall: float) -> pd.DataFrame:
    """Rows with ``t`` (s since t0), ``up`` and per-row counter increases, sorted by time."""
    df = frame.copy()
    df["t"] = df["wall"].astype(float) - t0_wall
    df["up"] = (df["state"] == "running") & df["mem_bytes"].notna()
    df = df.sort_values(["t", "service", "replica", "container"], kind="stable")
    for col, _ in RATES:
        values = df[col].astype("float64")
        prev = values.groupby(df["container"]).shift(1)
        inc = values - prev
        # a counter that went down was reset (container restarted): it counts from 0
        df[f"d_{col}"] = np.where(inc < 0, values, inc)
    return df.reset_index(drop=True)


def _down_spans(t: np.ndarray[Any, Any], up: np.ndarray[Any, Any]) -> list[Span]:
    """Spans [first round down, next round up) of one replica; open ones end at its last round."""
    spans: list[Span] = []
    start: float | None = None
    for ti, ui in zip(t, up, strict=True):
        if not ui and start is None:
            start = float(ti)
        elif ui and start is not None:
            spans.append((start, float(ti)))
            start = None
    if start is not None:
        spans.append((start, float(t[-1])))
    return spans[:MAX_DOWN_SPANS]


def replicas(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Per replica: its containers, rounds, down spans, restarts and health changes."""
    out = []
    for key, rows in df.groupby(["service", "replica"], sort=True):
        service, replica = cast(tuple[str, int], key)
        rounds = rows.groupby("t", sort=True).agg(
            up=("up", "any"), health=("health", "last"), state=("state", "last")
        )
        t = rounds.index.to_numpy(dtype=np.float64)
        health: list[tuple[float, str]] = []
        for ti, h in zip(t, rounds["health"], strict=True):
            if not health or health[-1][1] != h:
                health.append((float(ti), str(h)))
        restarts = 0
        for _, c in rows.groupby("container"):
            known = c["restarts"][c["restarts"] >= 0]
            if len(known):
                restarts += int(known.max() - known.min())
        out.append(
            {
                "service": str(service),
                "replica": int(replica),
                "containers": list(dict.fromkeys(rows["container"].astype(str))),
                "rounds": len(t),
                "up_rounds": int(rounds["up"].sum()),
                "first_s": float(t[0]),
                "last_s": float(t[-1]),
                "down": [list(s) for s in _down_spans(t, rounds["up"].to_numpy())],
                "restarts": restarts,
                "health": [list(h) for h in health[:MAX_HEALTH_CHANGES]],
            }
        )
    return out


def span_stats(df: pd.DataFrame, spans: Sequence[Span]) -> dict[str, Any]:
    """CPU, memory and byte rates of one service's rows inside ``spans`` ([a, b) each)."""
    t = df["t"].to_numpy(dtype=np.float64)
    inside = np.zeros(len(df), dtype=bool)
    for a, b in spans:
        inside |= (t >= a) & (t < b)
    rows = df[inside]
    seconds = sum(max(b - a, 0.0) for a, b in spans)
    up = rows[rows["up"]]
    cpu = up["cpu_pct"].dropna().to_numpy(dtype=np.float64)
    total = up.dropna(subset=["cpu_pct"]).groupby("t")["cpu_pct"].sum().to_numpy()
    mem = up["mem_bytes"].dropna().to_numpy(dtype=np.float64)
    out: dict[str, Any] = {
        "seconds": seconds,
        "rows": len(rows),
        "up_rows": len(up),
        "cpu_pct": {
            "p50": nearest_rank(cpu, 50),
            "p95": nearest_rank(cpu, 95),
            "max": float(cpu.max()) if len(cpu) else None,
        },
        "cpu_pct_sum": {
            "p95": nearest_rank(total, 95),
            "max": float(total.max()) if len(total) else None,
        },
        "mem_bytes": {
            "p50": nearest_rank(mem, 50),
            "max": float(mem.max()) if len(mem) else None,
        },
    }
    for col, key in RATES:
        inc = rows[f"d_{col}"].dropna()
        out[key] = float(inc.sum()) / seconds if seconds > 0 and len(inc) else None
    return out


def timeseries(df: pd.DataFrame, end_s: float) -> dict[str, Any]:
    """Per replica, buckets [k·step, (k+1)·step) from 0 to ⌈end_s⌉: mean CPU %, max memory
    (MiB). ``step`` is 1 s up to 2 h, wider beyond (as the request series: ``series_step``);
    ``step_s`` is in the result only above 1."""
    seconds = max(math.ceil(end_s), 0)
    step = series_step(seconds)
    buckets = math.ceil(seconds / step)
    series = []
    for key, rows in df.groupby(["service", "replica"], sort=True):
        service, replica = cast(tuple[str, int], key)
        up = rows[(rows["t"] >= 0) & (rows["t"] < seconds) & rows["up"]]
        k = up["t"].astype(int) if step == 1 else (up["t"] // step).astype(int)
        cpu = up["cpu_pct"].groupby(k).mean()
        mem = up["mem_bytes"].astype(float).groupby(k).max() / 2**20
        series.append(
            {
                "service": str(service),
                "replica": int(replica),
                "cpu_pct": [_round(cpu.get(i)) for i in range(buckets)],
                "mem_mib": [_round(mem.get(i)) for i in range(buckets)],
            }
        )
    out: dict[str, Any] = {"step_s": step} if step > 1 else {}
    return out | {"t": list(range(0, buckets * step, step)), "replicas": series}


def _round(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 2)


def analyse_containers(
    frame: pd.DataFrame | None,
    t0_wall: float,
    end_s: float,
    phase_spans: Mapping[str, Sequence[Span]],
    fault_spans: Mapping[str, Span],
) -> dict[str, Any] | None:
    """The summary's ``containers`` section; None when the run sampled nothing."""
    if frame is None or frame.empty:
        return None
    df = prepare(frame, t0_wall)
    measured = df[(df["t"] >= 0) & (df["t"] <= end_s)]
    services: dict[str, Any] = {}
    for service, rows in measured.groupby("service", sort=True):
        services[str(service)] = {
            "phases": {name: span_stats(rows, spans) for name, spans in phase_spans.items()},
            "faults": {key: span_stats(rows, [span]) for key, span in fault_spans.items()},
        }
    walls = np.unique(df["wall"].to_numpy(dtype=np.float64))
    gaps = np.diff(walls)
    return {
        "rows": len(df),
        "interval_s": float(np.median(gaps)) if len(gaps) else None,
        "replicas": replicas(measured) if len(measured) else [],
        "services": services,
        "timeseries": timeseries(measured, end_s),
    }
