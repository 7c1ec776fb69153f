"""scripts/consistency_series.py: one table row per run folder, from hand-written files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import load_module

series = load_module("scripts/consistency_series.py")


def _run(folder: Path, loads: tuple[float, ...] = (), **docs: object) -> Path:
    """A run folder: ``summary_json=...`` becomes summary.json; ``loads``, host.jsonl."""
    folder.mkdir(parents=True)
    for name, doc in docs.items():
        (folder / name.replace("_json", ".json")).write_text(json.dumps(doc))
    lines = [json.dumps({"kind": "host", "load1": v}) for v in loads]
    (folder / "host.jsonl").write_text("\n".join([*lines, "not json"]) + "\n")
    return folder


def test_a_checked_run_shows_time_load_verdict_and_operations(tmp_path: Path) -> None:
    run = _run(
        tmp_path / "s" / "s" / "20261207T181502Z",
        summary_json={"verdict": "pass"},
        consistency_json={
            "operations": 10,
            "types": {"ok": 6, "info": 3, "fail": 1},
            "final_reads": {"ok": 2, "selected": 2},
            "anomalies": {"stale-read": 0},
            "linearizability": {"unknown_keys": 0},
        },
        loads=(1.0, 3.0, 2.0),
    )
    assert series.row("s", 1, run, {"20261207T181502Z": 0}) == (
        "| s | 1 | 2026-12-07 18:15 | 2.0 / 3.0 | 0 | pass | 10 (6 / 3) | 2 of 2 keys"
        " | none | 0 | – | 0 |"
    )


def test_a_run_that_never_deployed_says_which_service(tmp_path: Path) -> None:
    error = "deploying compose.yaml failed:\ncontainer hachaos-x-01442d-sentinel-2 is unhealthy"
    run = _run(
        tmp_path / "s" / "s" / "20261207T090000Z",
        summary_json={"verdict": "error", "errors": [error]},
    )
    assert series.row("s", 2, run, {"20261207T090000Z": 3}) == (
        "| s | 2 | 2026-12-07 09:00 | – | 3 | error | – | – | deploy failed: sentinel unhealthy"
        " | – | – | – |"
    )
    assert series.HEADER.splitlines()[0].count("|") == series.row("s", 2, run, {}).count("|")
