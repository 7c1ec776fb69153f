"""Read a run folder: run.json, scenario.json, events.jsonl; samples.parquet is opened, not read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pydantic import ValidationError

from harness.analysis.sample_file import SampleFile
from harness.errors import ReportError, ScenarioError
from harness.evidence.events import read_events
from harness.records import (
    CONTAINER_COLUMNS,
    CONTAINERS_FILE,
    STACK_METRIC_COLUMNS,
    STACK_METRICS_FILE,
)
from harness.scenario.models import RecordedScenario, Scenario


@dataclass
class RunInputs:
    """Everything the analysis needs, plus what was missing or unreadable."""

    run_dir: Path
    meta: dict[str, Any]
    scenario: Scenario | None
    events: list[dict[str, Any]]
    samples: SampleFile  # read chunk by chunk: see harness.analysis.sample_file
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
    missing: list[str] = []
    meta = _anchored(_read_json(meta_path), missing)
    scenario = _read_scenario(run_dir / "scenario.json", missing)
    if not (run_dir / "events.jsonl").exists():
        missing.append("events.jsonl is missing: fault windows are unknown")
    events = read_events(run_dir / "events.jsonl")
    samples = SampleFile.open(run_dir / "samples.parquet", missing)
    durability = _read_optional(run_dir / "durability.json", missing)
    containers = _read_table(run_dir / CONTAINERS_FILE, CONTAINER_COLUMNS, missing)
    stack = _read_table(run_dir / STACK_METRICS_FILE, STACK_METRIC_COLUMNS, missing)
    host = read_events(run_dir / "host.jsonl")  # absent before it was sampled: no samples
    consistency = _read_optional(run_dir / "consistency.json", missing)
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


def _anchored(meta: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    """run.json with a t0: a run that ended before its load started (deploy failed,
    preflight refused a fault, interrupted early) is still reported, anchored where it
    ended."""
    if isinstance(meta.get("t0_wall"), int | float):
        return meta
    anchor = next(
        (meta[k] for k in ("ended_wall", "started_wall") if isinstance(meta.get(k), int | float)),
        0.0,
    )
    missing.append("the load never started (run.json has no t0_wall): no request was measured")
    return {**meta, "t0_wall": float(anchor)}


def _read_scenario(path: Path, missing: list[str]) -> Scenario | None:
    if not path.is_file():
        missing.append("scenario.json is missing: SLO checks cannot be evaluated")
        return None
    try:
        return RecordedScenario.model_validate(_read_json(path))
    except ValidationError as exc:
        missing.append(f"scenario.json does not validate ({exc.error_count()} problems)")
        return None


def _read_optional(path: Path, missing: list[str]) -> dict[str, Any] | None:
    """A JSON file a run has only when it asked for it (durability.json, consistency.json)."""
    if not path.is_file():
        return None
    try:
        return _read_json(path)
    except ReportError as exc:
        missing.append(f"{path.name} is unreadable: {exc}")
        return None
