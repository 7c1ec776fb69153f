"""The whole analysis on synthetic run folders whose answers are known exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hachaos_runfolder import (
    fault_events,
    kill_run,
    meta,
    samples,
    scenario,
    steady,
    write_run,
)

from harness.analysis.inputs import load_run
from harness.analysis.summary import analyse
from harness.errors import ScenarioError

CHECKS = {
    "availability": {"overall": 0.99, "baseline": 0.999, "after_recovery": 0.999},
    "latency": [{"percentile": 99, "max": "20ms", "phase": "baseline"}],
    "recovery": {"max": 5, "window": 5, "slo": 0.99},
    "max_failure_span": 15,
}


@pytest.fixture
def kill_summary(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    return analyse(load_run(kill_run(tmp_path / "run", CHECKS))).to_json_dict()


def test_overall_and_phase_metrics_are_exact(kill_summary: dict) -> None:  # type: ignore[type-arg]
    m = kill_summary["metrics"]
    assert kill_summary["headline"]["warmup_requests"] == 50
    assert (m["overall"]["requests"], m["overall"]["ok"]) == (600, 480)
    assert m["overall"]["availability"] == 0.8
    assert m["overall"]["throughput_rps"] == 10.0
    assert m["overall"]["error_rate"] == {"refused": 0.2}
    assert (m["baseline"]["requests"], m["baseline"]["availability"]) == (200, 1.0)
    assert (m["during_faults"]["requests"], m["during_faults"]["availability"]) == (100, 0.0)
    assert (m["recovery"]["requests"], m["recovery"]["duration_s"]) == (20, 2.0)
    assert (m["after_recovery"]["requests"], m["after_recovery"]["availability"]) == (280, 1.0)
    assert m["baseline"]["latency_ms"]["raw"]["p99"] == 10.007  # HDR bucket of 10 000 µs
    assert m["baseline"]["latency_ms"]["corrected"] is None  # closed model


def test_per_fault_metrics_are_exact(kill_summary: dict) -> None:  # type: ignore[type-arg]
    (f,) = kill_summary["faults"]
    assert f["detection_s"] == 0.0
    assert f["failures"] == 120  # 20.0 … 31.9 s
    assert f["failures_in_window"] == 100  # 20.0 … 29.9 s
    assert f["outage_s"] == pytest.approx(12.0)  # first failure 20.0, next success 32.0
    assert f["ttr_s"] == pytest.approx(2.0)  # revert 30.0, first good 5 s window at 32.0
    assert f["recovered"] is True
    assert f["p99_inflation"] == pytest.approx(50.015 / 10.007)


def test_checks_carry_measured_threshold_and_phase(kill_summary: dict) -> None:  # type: ignore[type-arg]
    by_phase = {(c["phase"], c["unit"]): c for c in kill_summary["checks"]}
    overall = by_phase[("overall", "ratio")]
    assert (overall["measured"], overall["threshold"], overall["passed"]) == (0.8, 0.99, False)
    assert by_phase[("baseline", "ms")]["passed"] is True
    assert by_phase[("fault:kill-1#0", "s")]["measured"] == pytest.approx(2.0)
    span = by_phase[("overall", "s")]
    assert (span["measured"], span["passed"]) == (pytest.approx(12.0), True)
    assert kill_summary["verdict"] == "fail"
    assert kill_summary["verdict_reasons"] == ["check failed: availability overall >= 99%"]


def test_all_checks_pass_gives_pass(tmp_path: Path) -> None:
    checks = {"availability": {"baseline": 0.999}, "recovery": {"max": 3}}
    s = analyse(load_run(kill_run(tmp_path / "run", checks))).to_json_dict()
    assert s["verdict"] == "pass"
    assert s["checks_failed"] == 0


def test_fault_not_applied_is_an_error_never_a_pass(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run", steady(0, 60, 10), fault_events("kill-1", 20.0, 20.5, ok=False)
    )
    s = analyse(load_run(run)).to_json_dict()
    assert s["verdict"] == "error"
    assert "fault kill-1#0 was not applied: container vanished" in s["verdict_reasons"]
    assert s["faults"][0]["recovery_note"] == "fault was not applied"


def test_interrupted_run_still_analyses_what_is_known(tmp_path: Path) -> None:
    frame = pd.concat([steady(0, 20, 10), steady(20, 25, 10, "timeout", 2000.0)])
    run_meta = meta(outcome="interrupted", signal="SIGINT", ended_wall=meta()["t0_wall"] + 25)
    run = write_run(tmp_path / "run", frame, fault_events("kill-1", 20.0, 20.5), run_meta=run_meta)
    s = analyse(load_run(run)).to_json_dict()
    assert s["verdict"] == "interrupted"
    assert s["end_s"] == pytest.approx(25.0)
    assert s["metrics"]["overall"]["requests"] == 250
    (f,) = s["faults"]
    assert (f["recovered"], f["ttr_s"]) == (False, None)
    assert "no revert was logged" in f["recovery_note"]


def test_no_samples_and_no_events(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", None, [])
    (run / "events.jsonl").unlink()
    s = analyse(load_run(run)).to_json_dict()
    assert s["headline"]["requests"] == 0
    assert s["headline"]["availability"] is None
    assert any("samples.parquet is missing" in w for w in s["warnings"])
    assert any("events.jsonl is missing" in w for w in s["warnings"])
    assert s["timeseries"]["requests"] == [0] * 60


def test_unrecovered_fault_fails_its_recovery_check(tmp_path: Path) -> None:
    frame = pd.concat([steady(0, 20, 10), steady(20, 60, 10, "http_5xx")])
    run = write_run(
        tmp_path / "run",
        frame,
        fault_events("kill-1", 20.0, 20.5, 30.0),
        scenario_doc=scenario({"recovery": {"max": 10}, "availability": {"after_recovery": 0.9}}),
    )
    s = analyse(load_run(run)).to_json_dict()
    assert s["verdict"] == "fail"
    ttr, after = sorted(s["checks"], key=lambda c: c["unit"])[::-1]
    assert (ttr["measured"], ttr["passed"]) == (None, False)
    assert (after["measured"], after["passed"]) == (None, False)
    assert s["phases"]["recovery"] == [[30.0, 60.0]]


def test_self_healing_fault_recovers_from_injection(tmp_path: Path) -> None:
    frame = pd.concat([steady(0, 10, 10), steady(10, 13, 10, "reset"), steady(13, 60, 10)])
    events = fault_events("crash-1", 10.0, 10.1, type_="crash", self_healing=True)
    s = analyse(load_run(write_run(tmp_path / "run", frame, events))).to_json_dict()
    (f,) = s["faults"]
    assert f["ttr_s"] == pytest.approx(3.0)
    assert f["failures"] == 30


def test_dropped_requests_are_excluded_from_availability(tmp_path: Path) -> None:
    frame = samples([1.0, 2.0, 3.0, 4.0], ["ok", "dropped", "ok", "timeout"])
    s = analyse(load_run(write_run(tmp_path / "run", frame, []))).to_json_dict()
    overall = s["metrics"]["overall"]
    assert (overall["requests"], overall["dropped"]) == (3, 1)
    assert overall["availability"] == pytest.approx(2 / 3)


def test_open_model_reports_corrected_latency(tmp_path: Path) -> None:
    frame = samples([1.0, 2.0], ["ok", "ok"], 10.0, delay_ms=[0.0, 990.0])
    s = analyse(load_run(write_run(tmp_path / "run", frame, []))).to_json_dict()
    assert s["latency_kind"] == "corrected"
    lat = s["metrics"]["overall"]["latency_ms"]
    assert lat["raw"]["max"] == 10.007
    assert lat["corrected"]["max"] == 1000.447


def test_saturated_generator_is_flagged(tmp_path: Path) -> None:
    run_meta = meta(generator={"saturated": True, "cpu_max": 99.0})
    s = analyse(
        load_run(write_run(tmp_path / "run", steady(0, 5, 10), [], run_meta=run_meta))
    ).to_json_dict()
    assert any("saturated" in w for w in s["warnings"])


def test_timeseries_buckets_per_second(kill_summary: dict) -> None:  # type: ignore[type-arg]
    ts = kill_summary["timeseries"]
    assert len(ts["t"]) == 60
    assert ts["requests"][19:22] == [10, 10, 10]
    assert ts["error_rate"][19:22] == [0.0, 1.0, 1.0]
    assert ts["p99_ms"][19:21] == [10.007, 50.015]


def test_a_folder_without_run_json_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not a run folder"):
        load_run(tmp_path)


def test_what_the_engine_could_not_check_is_a_warning_of_the_report(tmp_path: Path) -> None:
    from hachaos_runfolder import meta, steady, write_run

    from harness.analysis.inputs import load_run
    from harness.analysis.summary import analyse

    note = "service 'queue' uses endpoint_mode vip and service 'worker' depends on it"
    run = write_run(tmp_path / "run", steady(-5, 60, 10), [], run_meta=meta(engine_warnings=[note]))
    assert f"engine: {note}" in analyse(load_run(run)).warnings
    plain = write_run(tmp_path / "plain", steady(-5, 60, 10), [])
    assert not any(w.startswith("engine:") for w in analyse(load_run(plain)).warnings)
