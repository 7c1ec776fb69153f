"""Read a run folder (run.json, scenario.json, events.jsonl, samples.parquet)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from harness.analysis.samples import empty_frame
from harness.errors import ReportError, ScenarioError
from harness.evidence.events import read_events
from harness.records import (
    CONTAINER_COLUMNS,
    CONTAINERS_FILE,
    ITEM_COLUMN_DEFAULT,
    SAMPLE_COLUMNS,
    STACK_METRIC_COLUMNS,
    STACK_METRICS_FILE,
)
from harness.scenario.models import RecordedScenario, Scenario

# Columns added after the first release: absent in older run folders, read as "".
OPTIONAL_SAMPLE_COLUMNS = ("item",)


@dataclass
class RunInputs:
    """Everything the analysis needs, plus what was missing or unreadable."""

    run_dir: Path
    meta: dict[str, Any]
    scenario: Scenario | None
    events: list[dict[str, Any]]
    samples: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    durability: dict[str, Any] | None = None  # durability.json, when the run wrote one
    containers: pd.DataFrame | None = None  # containers.parquet (container metrics)
    stack_metrics: pd.DataFrame | None = None  # stack_metrics.parquet (scraped samples)
    host: list[dict[str, Any]] = field(default_factory=list)  # host.jsonl samples
    consistency: dict[str, Any] | None = None  # consistency.json, when the run wrote one


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(
            f"cannot read {path}: {exc}", hint="the run folder is damaged; re-run the scenario"
        ) from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path} does not hold a JSON object", hint="re-run the scenario")
    return data


def _read_samples(path: Path, missing: list[str]) -> pd.DataFrame:
    if not path.exists():
        missing.append("samples.parquet is missing: no request was recorded")
        return empty_frame()
    try:
        present = set(pq.read_schema(path).names)
        frame = pd.read_parquet(path, columns=[c for c in SAMPLE_COLUMNS if c in present])
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        missing.append(f"samples.parquet is unreadable ({exc}); metrics are empty")
        return empty_frame()
    for column in OPTIONAL_SAMPLE_COLUMNS:
        if column not in frame.columns:  # samples written before the column existed
            frame[column] = ITEM_COLUMN_DEFAULT
    lacking = [c for c in SAMPLE_COLUMNS if c not in frame.columns]
    if lacking:
        missing.append(f"samples.parquet lacks columns {lacking}; metrics are empty")
        return empty_frame()
    return frame


def _read_table(path: Path, columns: tuple[str, ...], missing: list[str]) -> pd.DataFrame | None:
    """An optional evidence table; None when absent, a note in ``missing`` when unreadable."""
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        missing.append(f"{path.name} is unreadable ({exc}); its metrics are left out")
        return None
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        missing.append(f"{path.name} lacks columns {lacking}; its metrics are left out")
        return None
    return frame


def load_run(run_dir: Path) -> RunInputs:
    """Read a run folder. Only run.json is required; the rest may be missing (partial run)."""
    meta_path = run_dir / "run.json"
    if not meta_path.is_file():
        raise ScenarioError(
            f"{run_dir} is not a run folder (no run.json)",
            hint="pass a folder such as reports/<scenario>/<timestamp>/",
        )
    meta = _read_json(meta_path)
    missing: list[str] = []
    if not isinstance(meta.get("t0_wall"), int | float):
        # The run ended before its load started (deploy failed, preflight refused a
        # fault, interrupted early): still report it, anchored where it ended.
        anchor = next(
            (
                meta[k]
                for k in ("ended_wall", "started_wall")
                if isinstance(meta.get(k), int | float)
            ),
            0.0,
        )
        meta = {**meta, "t0_wall": float(anchor)}
        missing.append("the load never started (run.json has no t0_wall): no request was measured")
    scenario = None
    scenario_path = run_dir / "scenario.json"
    if scenario_path.is_file():
        try:
            scenario = RecordedScenario.model_validate(_read_json(scenario_path))
        except ValidationError as exc:
            missing.append(f"scenario.json does not validate ({exc.error_count()} problems)")
    else:
        missing.append("scenario.json is missing: SLO checks cannot be evaluated")
    if not (run_dir / "events.jsonl").exists():
        missing.append("events.jsonl is missing: fault windows are unknown")
    events = read_events(run_dir / "events.jsonl")
    samples = _read_samples(run_dir / "samples.parquet", missing)
    durability = None
    durability_path = run_dir / "durability.json"
    if durability_path.is_file():
        try:
            durability = _read_json(durability_path)
        except ReportError as exc:
            missing.append(f"durability.json is unreadable: {exc}")
    containers = _read_table(run_dir / CONTAINERS_FILE, CONTAINER_COLUMNS, missing)
    stack = _read_table(run_dir / STACK_METRICS_FILE, STACK_METRIC_COLUMNS, missing)
    host = read_events(run_dir / "host.jsonl")  # absent before it was sampled: no samples
    consistency = None
    consistency_path = run_dir / "consistency.json"
    if consistency_path.is_file():
        try:
            consistency = _read_json(consistency_path)
        except ReportError as exc:
            missing.append(f"consistency.json is unreadable: {exc}")
    return RunInputs(
        run_dir,
        meta,
        scenario,
        events,
        samples,
        missing,
        durability,
        containers,
        stack,
        host,
        consistency=consistency,
    )
