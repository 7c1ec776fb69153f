"""Build synthetic run folders whose metrics are known exactly (shared by analysis/report tests)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

T0 = 1_700_000_000.0  # t0_wall of every synthetic run
T0_US = int(T0 * 1_000_000)


def samples(
    times_s: Sequence[float],
    outcomes: Sequence[str],
    latency_ms: Sequence[float] | float = 10.0,
    delay_ms: Sequence[float] | float | None = None,
) -> pd.DataFrame:
    """One row per request at ``t0 + times_s``; ``delay_ms`` (open model) is start − intended."""
    n = len(times_s)
    lat = [float(latency_ms)] * n if isinstance(latency_ms, int | float) else list(latency_ms)
    start = [T0_US + round(t * 1_000_000) for t in times_s]
    if delay_ms is None:
        intended = [0] * n
    else:
        delays = [float(delay_ms)] * n if isinstance(delay_ms, int | float) else list(delay_ms)
        intended = [s - round(d * 1000) for s, d in zip(start, delays, strict=True)]
    return pd.DataFrame(
        {
            "intended_us": pd.Series(intended, dtype="int64"),
            "start_us": pd.Series(start, dtype="int64"),
            "latency_ms": pd.Series(
                [float("nan") if o == "dropped" else v for o, v in zip(outcomes, lat, strict=True)],
                dtype="float64",
            ),
            "status": pd.Series([200 if o == "ok" else 0 for o in outcomes], dtype="int32"),
            "outcome": pd.Series(list(outcomes), dtype="string"),
            "bytes": pd.Series([0] * n, dtype="int64"),
            "name": pd.Series(["GET /"] * n, dtype="string"),
            "worker": pd.Series(["w0"] * n, dtype="string"),
        }
    )


def steady(
    start: float, end: float, rate: float, outcome: str = "ok", latency_ms: float = 10.0
) -> pd.DataFrame:
    """Requests every 1/rate s in [start, end) (times on an exact grid)."""
    count = round((end - start) * rate)
    times = [start + i / rate for i in range(count)]
    return samples(times, [outcome] * count, latency_ms)


def fault_events(
    name: str,
    injected: float,
    in_effect: float,
    reverted: float | None = None,
    *,
    type_: str = "kill",
    index: int = 0,
    occurrence: int = 0,
    ok: bool = True,
    revert_ok: bool = True,
    self_healing: bool = False,
) -> list[dict[str, Any]]:
    """A ``fault.apply`` (and ``fault.revert`` when ``reverted`` is given) at offsets from t0."""
    common = {
        "fault": name,
        "type": type_,
        "index": index,
        "occurrence": occurrence,
        "service": "app",
        "targets": ["app-1"],
        "planned": injected,
        "self_healing": self_healing,
    }
    events = [
        {
            "kind": "fault.apply",
            **common,
            "wall": T0 + in_effect,
            "wall_start": T0 + injected,
            "wall_end": T0 + in_effect,
            "ok": ok,
            "error": None if ok else "container vanished",
        }
    ]
    if reverted is not None:
        events.append(
            {
                "kind": "fault.revert",
                **common,
                "wall": T0 + reverted + 0.2,
                "wall_start": T0 + reverted,
                "wall_end": T0 + reverted + 0.2,
                "ok": revert_ok,
                "error": None if revert_ok else "start failed",
            }
        )
    return events


def scenario(checks: dict[str, Any] | None = None, faults: list[dict[str, Any]] | None = None):  # type: ignore[no-untyped-def]
    """A valid scenario dict (as scenario.json holds it)."""
    return {
        "version": 1,
        "name": "synthetic",
        "seed": 7,
        "stack": {"compose": "compose.yaml", "target": "http://127.0.0.1:8080/"},
        "load": {"model": "closed", "users": 2},
        "timing": {"warmup": 5, "duration": 60, "cooldown": 0},
        "faults": faults
        if faults is not None
        else [{"type": "kill", "target": {"service": "app"}, "at": 20, "for": 10}],
        "checks": checks or {},
    }


def meta(**overrides: Any) -> dict[str, Any]:
    """A run.json dict; duration 60 s, no cooldown."""
    data: dict[str, Any] = {
        "schema": 1,
        "run_id": "synthetic-1",
        "scenario": "synthetic",
        "scenario_file": "scenarios/synthetic.yaml",
        "scenario_sha256": "ab" * 32,
        "seed": 7,
        "project": "hachaos-synthetic-x",
        "target_url": "http://127.0.0.1:8080/",
        "load_model": "closed",
        "load_arrivals": None,
        "t0_wall": T0,
        "warmup": 5.0,
        "duration": 60.0,
        "cooldown": 0.0,
        "started_wall": T0 - 5,
        "ended_wall": T0 + 61,
        "outcome": "completed",
        "signal": None,
        "errors": [],
        "generator": {"saturated": False, "cpu_max": 40.0, "workers": 2, "dropped": 0, "late": 0},
        "environment": {
            "hachaos": "0.1.0",
            "git_commit": "deadbeef",
            "engine_version": "20.10",
            "compose_version": "2.26",
            "images": {"app": "sha256:1234"},
            "host_cores": 2,
            "python": "3.11",
            "platform": "linux",
        },
    }
    data.update(overrides)
    return data


def write_run(
    run_dir: Path,
    frame: pd.DataFrame | None,
    events: list[dict[str, Any]],
    *,
    run_meta: dict[str, Any] | None = None,
    scenario_doc: dict[str, Any] | None = None,
) -> Path:
    """Write a run folder; ``frame=None`` leaves samples.parquet out."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps(run_meta or meta()))
    (run_dir / "scenario.json").write_text(json.dumps(scenario_doc or scenario()))
    (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    if frame is not None:
        frame.to_parquet(run_dir / "samples.parquet", index=False)
    return run_dir


def kill_run(run_dir: Path, checks: dict[str, Any] | None = None) -> Path:
    """The reference run: 10 rps for 60 s, kill at 20 s (in effect 20.5 s), reverted at 30 s.

    Requests fail from 20.0 s to 31.9 s inclusive (120 failures); from 32.0 s on all succeed.
    Baseline latency 10 ms; latency during the incident 50 ms.
    """
    frame = pd.concat(
        [
            steady(-5, 20, 10),
            steady(20, 32, 10, "refused", 50.0),
            steady(32, 60, 10),
        ],
        ignore_index=True,
    )
    return write_run(
        run_dir,
        frame,
        fault_events("kill-1", 20.0, 20.5, 30.0),
        scenario_doc=scenario(checks),
    )


# ---------------------------------------------------------------- summary documents
SERIES = (
    "t",
    "requests",
    "failed",
    "dropped",
    "error_rate",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
)


def summary_doc(
    run_id: str = "r",
    availability: float | None = 1.0,
    p99: float | None = 10.0,
    kind: str = "raw",
    faults: Sequence[tuple[str, float | None]] = (),
    **overrides: Any,
) -> dict[str, Any]:
    """A minimal valid summary.json document (no request measured) with the given headline.

    ``faults`` are ``(key, ttr_s)``: a None ttr means it never recovered. Only what
    comparison and the report sections read is set; every other field is empty.
    """
    empty_phase = {
        "requests": 0, "ok": 0, "failed": 0, "dropped": 0, "duration_s": 0.0,
        "availability": None, "throughput_rps": None, "outcomes": {}, "error_rate": {},
        "latency_ms": {"raw": {"count": 0}, "corrected": None},
    }  # fmt: skip
    run_keys = (
        "scenario", "scenario_file", "scenario_sha256", "seed", "project", "target_url",
        "load_model", "t0_wall", "warmup", "duration", "cooldown", "started_wall",
        "ended_wall", "outcome", "signal",
    )  # fmt: skip
    doc: dict[str, Any] = {
        "schema": "hachaos.summary",
        "schema_version": 1,
        "generated_by": "hachaos test",
        "verdict": "unchecked",
        "verdict_reasons": [],
        "run": {"run_id": run_id, **dict.fromkeys(run_keys)},
        "errors": [],
        "warnings": [],
        "environment": {},
        "generator": {},
        "audit": None,
        "isolation": None,
        "end_s": 10.0,
        "latency_kind": kind,
        "headline": dict(
            requests=0,
            availability=availability,
            p99_ms=p99,
            throughput_rps=None,
            warmup_requests=0,
        ),
        "phases": {},
        "metrics": {"overall": empty_phase},
        "faults": [_fault_doc(key, ttr) for key, ttr in faults],
        "longest_failure_span": {"seconds": 0.0, "start_s": None},
        "durability": None,
        "checks": [],
        "checks_passed": 0,
        "checks_failed": 0,
        "timeseries": {key: [] for key in SERIES},
        "latency_distribution": {"raw": None, "corrected": None},
    }
    doc.update(overrides)
    return doc


def _fault_doc(key: str, ttr: float | None) -> dict[str, Any]:
    name, _, occurrence = key.partition("#")
    return {
        "key": key, "name": name, "type": "kill", "index": 0, "occurrence": int(occurrence or 0),
        "targets": [], "planned_s": 1.0, "applied": True, "self_healing": False,
        "mechanism": None, "error": None, "injected_s": 1.0, "in_effect_s": 1.0,
        "reverted_s": 2.0, "revert_ok": True, "window_end_s": 2.0, "recovery_from_s": 2.0,
        "recovered": ttr is not None, "recovered_at_s": None if ttr is None else 2.0 + ttr,
        "ttr_s": ttr, "recovery_note": "" if ttr is not None else "not recovered",
        "detection_s": None, "failures": 0, "failures_in_window": 0, "requests": 0,
        "outage_s": 0.0, "outage_start_s": None, "p99_ms": None, "p99_inflation": None,
    }  # fmt: skip
