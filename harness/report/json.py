"""summary.json: the versioned machine-readable summary (docs/summary-schema.md)."""

from __future__ import annotations

import json
import math
from typing import Any

from harness.analysis.annotations import fault_annotation
from harness.analysis.summary_model import Summary


def _clean(value: Any) -> Any:
    # JSON has no NaN/Infinity; write null so every parser accepts the file.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def render_json(summary: Summary) -> str:
    """The summary as indented, strict JSON (``Summary.to_json_dict``)."""
    return json.dumps(_clean(summary.to_json_dict()), indent=1, allow_nan=False) + "\n"


def render_annotations(summary: Summary) -> str:
    """annotations.json: each applied fault's window as a Grafana annotation."""
    t0 = summary.run.t0_wall or 0.0
    notes = [
        fault_annotation(
            f.key,
            f.type,
            f.targets,
            f.injected_s,
            f.window_end_s,
            t0,
            summary.run.run_id or "",
            summary.run.scenario or "",
        )
        for f in summary.faults
        if f.applied
    ]
    return json.dumps(notes, indent=1) + "\n"
