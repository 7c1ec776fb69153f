"""What every check says beside its number, and the scenario's recovery settings reaching
the time to recover. Expected values are worked out by hand from the reference kill run
(tests/unit/analysis/hachaos_runfolder.py: failures from 20.0 s to 31.9 s, revert at 30 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hachaos_runfolder import kill_run

from harness.analysis.inputs import load_run
from harness.analysis.slo import durability_check, evaluate
from harness.analysis.summary import analyse
from harness.faults.catalog import Scenario


def _scenario(checks: dict[str, Any]) -> Any:
    return Scenario.model_validate(
        {
            "version": 1,
            "name": "details",
            "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:8080/"},
            "load": {"users": 1},
            "timing": {"duration": "60s"},
            "faults": [{"type": "kill", "target": {"service": "app"}, "at": "20s", "for": "10s"}],
            "checks": checks,
        }
    )


def test_a_measured_check_has_no_detail_and_an_unmeasured_one_says_why() -> None:
    scn = _scenario(
        {
            "availability": {"baseline": 0.9, "during_faults": 0.9},
            "latency": [
                {"phase": "baseline", "percentile": 99, "max": "1s"},
                {"phase": "during_faults", "percentile": 99, "max": "1s"},
            ],
        }
    )
    metrics = {"baseline": {"availability": 1.0, "latency_ms": {"raw": {"p99": 12.0}}}}
    details = [(c.name, c.detail) for c in evaluate(scn, metrics, [], 0.0)]
    assert details == [
        ("availability baseline >= 90%", ""),
        ("availability during_faults >= 90%", "no requests in phase during_faults"),
        ("latency p99 (raw) baseline <= 1000 ms", ""),
        ("latency p99 (raw) during_faults <= 1000 ms", "no requests in phase during_faults"),
    ]


def test_a_recovery_check_explains_only_a_missing_time() -> None:
    scn = _scenario({"recovery": {"max": "5s"}})
    faults = [
        {"key": "a#0", "index": 0, "applied": True, "ttr_s": 1.5},
        {"key": "b#0", "index": 0, "applied": True, "ttr_s": None},
        {"key": "c#0", "index": 0, "applied": True, "ttr_s": None, "recovery_note": "why"},
        {"key": "d#0", "index": 0, "applied": False, "ttr_s": None},
    ]
    got = [(c.phase, c.passed, c.detail) for c in evaluate(scn, {}, faults, 0.0)]
    assert got == [("fault:a#0", True, ""), ("fault:b#0", False, ""), ("fault:c#0", False, "why")]


def test_a_conclusive_durability_check_lists_its_counts() -> None:
    check = durability_check(0, {"acked": 10, "selected": 10, "ok": 9, "lost": 1, "unknown": 0})
    assert (check.measured, check.passed) == (1.0, False)
    assert check.detail == "10 acknowledged, 10 read back, 1 lost"


def test_the_scenario_recovery_window_and_slo_reach_the_time_to_recover(tmp_path: Path) -> None:
    # Revert at 30 s. Default window 5 s at 99 %: the first such window starts at 32.0 s
    # (the first success) -> 2.0 s. With a 4 s window at 50 %: [30.0, 34.0) holds 20
    # failures (30.0 .. 31.9) and 20 successes (32.0 .. 33.9) -> 50 % -> recovered at once.
    default = analyse(load_run(kill_run(tmp_path / "a", {}))).to_json_dict()
    assert default["faults"][0]["ttr_s"] == 2.0
    loose = {"recovery": {"window": "4s", "slo": 0.5}}
    summary = analyse(load_run(kill_run(tmp_path / "b", loose))).to_json_dict()
    assert summary["faults"][0]["ttr_s"] == 0.0
