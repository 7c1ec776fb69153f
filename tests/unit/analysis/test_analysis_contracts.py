"""Exact output contracts of the analysis: summary.json fields (as documented), compare.json,
check details and warnings. Expected values are written out by hand from tiny inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hachaos_runfolder import (
    T0,
    fault_events,
    kill_run,
    meta,
    samples,
    scenario,
    steady,
    summary_doc,
    write_run,
)

from harness.analysis.compare import Tolerances, compare_runs
from harness.analysis.inputs import load_run
from harness.analysis.latency import HIGHEST_US, Histogram, _bucket_count, distribution
from harness.analysis.metrics import latency_distribution, timeseries
from harness.analysis.phases import FaultWindow, fault_windows, infrastructure_errors, phases
from harness.analysis.recovery import Requests, detection, longest_failure_span, time_to_recover
from harness.analysis.samples import timeline
from harness.analysis.slo import durability_check, evaluate
from harness.analysis.summary import analyse, end_of_run
from harness.analysis.summary_model import Summary, SummaryError, parse_summary
from harness.errors import ReportError, ScenarioError
from harness.faults.catalog import Scenario
from harness.records import SAMPLE_COLUMNS

SCHEMA_DOC = Path(__file__).resolve().parents[3] / "docs" / "summary-schema.md"


def _ticked(text: str) -> list[str]:
    return [t for t in re.findall(r"`([a-z0-9_.]+)`", text)]


def _doc() -> str:
    return SCHEMA_DOC.read_text(encoding="utf-8").split("## Version 1", 1)[1]


def _table_field(name: str) -> str:
    for line in _doc().splitlines():
        if line.startswith(f"| `{name}`"):
            return line
    raise AssertionError(f"{name} is not in the schema table")


def _paragraph(label: str) -> str:
    text = _doc()
    start = text.index(f"**{label}**")
    ends = [e for e in (text.find("\n\n", start), text.find("\n**", start + 2)) if e > 0]
    return text[start : min(ends)]


# ------------------------------------------------------------------ summary.json vs the doc
@pytest.fixture(scope="module")
def kill_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return analyse(load_run(kill_run(tmp_path_factory.mktemp("kill") / "run"))).to_json_dict()


def test_top_level_fields_are_the_documented_ones(kill_summary: dict[str, Any]) -> None:
    documented = []
    for line in _doc().split("| field |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]:
        documented += _ticked(line.split("|")[1])
    assert sorted(kill_summary) == sorted(documented)


def test_run_headline_and_span_fields(kill_summary: dict[str, Any]) -> None:
    run_keys = _ticked(_table_field("run").split("|")[3])
    assert kill_summary["run"] == {k: meta()[k] for k in run_keys}
    assert kill_summary["headline"] == {
        "requests": 600,
        "availability": 0.8,
        "p99_ms": 50.015,  # 20 % of the requests took 50 ms: p99 is in that bucket
        "throughput_rps": 10.0,
        "warmup_requests": 50,
    }
    assert sorted(kill_summary["headline"]) == sorted(
        _ticked(_table_field("headline").split("|")[3])
    )
    assert kill_summary["longest_failure_span"] == {"seconds": 12.0, "start_s": 20.0}
    ts_keys = _ticked(_table_field("timeseries").split("|")[3])
    # step_s is written only for runs longer than 2 h (test_series_buckets.py)
    assert sorted(kill_summary["timeseries"]) == sorted(set(ts_keys) - {"step_s"})


def test_phase_metrics_fields(kill_summary: dict[str, Any]) -> None:
    documented = set(_ticked(_paragraph("PhaseMetrics")))
    for phase in ("overall", "baseline", "during_faults", "recovery", "after_recovery"):
        m = kill_summary["metrics"][phase]
        assert set(m) | set(m["latency_ms"]) == documented
    during = kill_summary["metrics"]["during_faults"]
    assert (during["requests"], during["ok"], during["failed"], during["dropped"]) == (
        100,
        0,
        100,
        0,
    )
    assert during["outcomes"] == {"refused": 100}
    latency_keys = set(_ticked(_paragraph("Latency")))
    assert set(kill_summary["metrics"]["overall"]["latency_ms"]["raw"]) == latency_keys


def test_fault_record_is_exact(kill_summary: dict[str, Any]) -> None:
    # kill at 20.0 (in effect 20.5), reverted at 30.0; failures 20.0 … 31.9; ok from 32.0
    (f,) = kill_summary["faults"]
    expected = {
        "key": "kill-1#0",
        "name": "kill-1",
        "type": "kill",
        "index": 0,
        "occurrence": 0,
        "targets": ["app-1"],
        "planned_s": 20.0,
        "applied": True,
        "self_healing": False,
        "error": None,
        "injected_s": 20.0,
        "in_effect_s": 20.5,
        "reverted_s": 30.0,
        "revert_ok": True,
        "window_end_s": 30.0,
        "recovery_from_s": 30.0,
        "recovered": True,
        "recovered_at_s": 32.0,
        "ttr_s": 2.0,
        "recovery_note": "",
        "detection_s": 0.0,
        "failures": 120,
        "failures_in_window": 100,
        "requests": 120,  # [20.0, 32.0)
        "outage_s": 12.0,
        "outage_start_s": 20.0,
        "p99_ms": 50.015,
        "p99_inflation": 50.015 / 10.007,
        "mechanism": None,  # only proxy/netem faults say which one served them
    }
    assert f == expected
    assert sorted(f) == sorted(t for t in _ticked(_paragraph("Fault")) if t != "faults")


def test_fault_that_never_recovers_is_measured_to_the_end(tmp_path: Path) -> None:
    # ok until 20 s; failures from 20 s to the end (60 s); reverted at 30 s
    frame = pd.concat([steady(0, 20, 10), steady(20, 60, 10, "http_5xx", 30.0)])
    s = analyse(
        load_run(write_run(tmp_path / "run", frame, fault_events("k", 20.0, 20.5, 30.0)))
    ).to_json_dict()
    (f,) = s["faults"]
    assert (f["recovered"], f["ttr_s"], f["recovered_at_s"]) == (False, None, None)
    assert f["recovery_note"] == "not recovered before the run ended"
    assert (f["requests"], f["failures"], f["failures_in_window"]) == (400, 400, 100)
    assert f["outage_s"] == pytest.approx(39.9)  # no success ends the run: 20.0 → 59.9
    assert f["p99_ms"] == 30.015
    assert s["warnings"] == ["fault k#0: not recovered before the run ended"]


def test_fault_without_a_revert_stays_open(tmp_path: Path) -> None:
    frame = steady(0, 60, 10)
    s = analyse(
        load_run(write_run(tmp_path / "run", frame, fault_events("k", 20.0, 20.5)))
    ).to_json_dict()
    (f,) = s["faults"]
    assert f["recovery_note"] == "no revert was logged (run stopped early or revert failed)"
    assert (f["window_end_s"], f["reverted_s"], f["revert_ok"]) == (60.0, None, None)
    assert (f["recovery_from_s"], f["ttr_s"]) == (None, None)
    assert f["requests"] == 400  # [20, 60): the impact runs to the end
    assert s["phases"]["during_faults"] == [[20.0, 60.0]]


def test_fault_impact_ends_at_the_window_end_when_recovery_is_earlier(tmp_path: Path) -> None:
    # a self-healing crash at 10 s, in effect (window end) at 14 s; nothing fails
    frame = steady(0, 30, 10)
    events = fault_events("c", 10.0, 14.0, type_="crash", self_healing=True)
    s = analyse(load_run(write_run(tmp_path / "run", frame, events))).to_json_dict()
    (f,) = s["faults"]
    assert (f["ttr_s"], f["recovered_at_s"], f["window_end_s"]) == (0.0, 10.0, 14.0)
    assert f["requests"] == 40  # [10, max(10, 14)) = [10, 14)
    assert (f["detection_s"], f["outage_s"], f["outage_start_s"]) == (None, 0.0, None)


def test_failure_spans_outside_the_fault_do_not_count_for_it() -> None:
    # failures at 1, 2 (success at 3: span 2.0), then at 10, 10.5 (success at 11: span 1.0)
    t = np.array([1.0, 2.0, 3.0, 10.0, 10.5, 11.0])
    ok = np.array([False, False, True, False, False, True])
    reqs = Requests(t, ok)
    assert longest_failure_span(reqs) == (2.0, 1.0)
    assert longest_failure_span(reqs, (5.0, 20.0)) == (1.0, 10.0)
    assert longest_failure_span(reqs, (3.0, 10.0)) == (0.0, None)  # [3, 10) starts no run
    assert detection(reqs, 5.0, 20.0) == 5.0
    assert detection(reqs, 3.0, 10.0) is None  # the 10.0 failure is outside [3, 10)
    assert reqs.between(2.0, 10.5).t.tolist() == [2.0, 3.0, 10.0]


# ------------------------------------------------------------------ latency distribution
def test_distribution_points_in_ms() -> None:
    # exact below 2048 µs; in [2048, 4096) buckets are 2 µs wide
    values = np.array([1000, 2000, 3000, 4000], dtype=np.int64)
    points = dict(distribution(values))
    # rank = max(floor(p * 4 / 100 + 0.5), 1): p0 -> lowest of 1st, p50 -> 2nd, p75 -> 3rd
    assert points[0.0] == 1.0
    assert points[50.0] == 2.0
    assert points[75.0] == 3.001  # 3000 µs is in [3000, 3001]
    assert points[100.0] == 4.001
    assert distribution(np.array([5], dtype=np.int64))[0] == [0.0, 0.005]
    assert distribution(np.array([], dtype=np.int64)) == []


def test_latency_distribution_has_corrected_only_with_a_schedule() -> None:
    closed = latency_distribution(timeline(samples([1.0], ["ok"], 1.0), T0))
    assert closed["corrected"] is None and closed["raw"] is not None
    opened = latency_distribution(timeline(samples([1.0], ["ok"], 1.0, delay_ms=1.0), T0))
    assert opened["corrected"] is not None and opened["corrected"][-1] == [100.0, 2.0]


def test_hdr_bucket_count() -> None:
    # 2048 sub-buckets cover [0, 2048); each further bucket doubles the range
    assert _bucket_count(2047) == 1
    assert _bucket_count(2048) == 2
    assert _bucket_count(4095) == 2
    assert _bucket_count(4096) == 3
    assert _bucket_count(HIGHEST_US) == 22  # 2048 * 2^21 = 4 294 967 296 > 3.6e9


# ------------------------------------------------------------------ compare.json
def _summary(
    run_id: str, availability: float | None, p99: float | None, kind: str, faults: list[Any]
) -> Summary:
    return parse_summary(summary_doc(run_id, availability, p99, kind, faults))


def test_compare_document_is_exact() -> None:
    base = _summary(
        "base-1",
        1.0,
        100.0,
        "raw",
        [("kill#0", 4.0), ("pause#0", 1.0), ("crash#0", 3.0), ("x#0", None)],
    )
    new = _summary(
        "new-1",
        0.75,
        120.0,
        "corrected",
        [("kill#0", 6.0), ("crash#0", None), ("x#0", None), ("stop#0", 0.5)],
    )
    row = {"unit": "s", "tolerance": "increase <= 2 s"}
    assert compare_runs(base, new).to_dict() == {
        "schema": "hachaos.compare",
        "schema_version": 1,
        "base_run": "base-1",
        "new_run": "new-1",
        "base_verdict": "unchecked",  # the synthetic summaries define no checks
        "new_verdict": "unchecked",
        "tolerances": {
            "max_availability_drop": 0.005, "max_p99_increase": 0.2, "max_ttr_increase": 2.0
        },
        "regressed": True,
        "rows": [
            {
                "metric": "availability overall",
                "unit": "ratio",
                "base": 1.0,
                "new": 0.75,
                "delta": -0.25,
                "tolerance": "drop <= 0.500%",
                "regressed": True,
                "note": "",
            },
            {
                "metric": "p99 overall",
                "unit": "ms",
                "base": 100.0,
                "new": 120.0,
                "delta": 20.0,
                "tolerance": "increase <= 20%",
                "regressed": False,  # exactly +20 % is within the tolerance
                "note": "base is raw, new is corrected",
            },
            # exactly +2 s is within the tolerance
            {"metric": "time to recover kill#0", **row, "base": 4.0, "new": 6.0, "delta": 2.0,
             "regressed": False, "note": ""},
            {"metric": "time to recover pause#0", **row, "base": 1.0, "new": None, "delta": None,
             "regressed": False, "note": "only in the base run"},
            {"metric": "time to recover crash#0", **row, "base": 3.0, "new": None, "delta": None,
             "regressed": True, "note": "new run did not recover"},
            {"metric": "time to recover x#0", **row, "base": None, "new": None, "delta": None,
             "regressed": False, "note": "new run did not recover (nor did the base)"},
            {"metric": "time to recover stop#0", **row, "base": None, "new": 0.5, "delta": None,
             "regressed": False, "note": "only in the new run"},
        ],
    }  # fmt: skip


def test_compare_without_a_new_value() -> None:
    base = _summary("b", 0.5, 10.0, "raw", [])
    new = _summary("n", None, None, "raw", [])
    avail, p99 = compare_runs(base, new).rows
    assert (avail.regressed, avail.delta, p99.regressed, p99.delta) == (True, None, False, None)
    assert compare_runs(new, base).rows[0].regressed is False  # no base: nothing to regress from


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1%", "-5%", "2s"), "invalid tolerance: a tolerance cannot be negative, found '-5%'"),
        (("1%", "abc", "2s"), "invalid tolerance: expected a percentage such as 20%, found 'abc'"),
    ],
)
def test_tolerance_errors(args: tuple[str, str, str], message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        Tolerances.parse(*args)
    assert err.value.message == message
    assert err.value.hint == (
        "write e.g. --max-availability-drop 0.5% --max-p99-increase 20% --max-ttr-increase 2s"
    )


def test_tolerance_forms() -> None:
    assert Tolerances.parse("1%", "0%", "2s").max_p99_increase == 0.0
    assert Tolerances.parse("1%", "0.5", "2s").max_p99_increase == 0.5  # a bare fraction


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"schema": "other", "headline": {}}, 'new.json is not a hachaos summary (no "schema"'),
        ({"schema": "hachaos.summary"}, "new.json (schema_version None) does not match"),
    ],
)
def test_compare_refuses_other_documents(broken: dict[str, Any], message: str) -> None:
    # compare reads every summary.json through parse_summary: a usage error, never a guess.
    with pytest.raises(SummaryError) as err:
        parse_summary(broken, "new.json")
    assert err.value.message.startswith(message)
    assert err.value.exit_code == 2
    assert err.value.hint is not None and "hachaos report RUN_DIR" in err.value.hint


# ------------------------------------------------------------------ durability check
@pytest.mark.parametrize(
    ("durability", "measured", "detail"),
    [
        (None, None, "could not check: durability.json is missing"),
        ({"acked": 5, "error": "boom"}, None, "could not check: boom"),
        (
            {"acked": 5, "selected": 4, "unknown": 4},
            None,
            "could not check: none of 4 reads got an answer",
        ),
        ({"acked": 5, "unknown": 5}, None, "could not check: none of 5 reads got an answer"),
        (
            {
                "acked": 10,
                "selected": 10,
                "ok": 6,
                "lost": 1,
                "corrupt": 1,
                "unknown": 1,
                "unchecked": 1,
            },
            2.0,
            "10 acknowledged, 8 read back, 1 lost, 1 corrupt, 1 unknown, 1 unchecked",
        ),
        ({"acked": 3, "lost": 3}, 3.0, "3 acknowledged, 3 read back, 3 lost"),
        ({"acked": 2, "corrupt": 2}, 2.0, "2 acknowledged, 2 read back, 2 corrupt"),
        (
            {"acked": 0},
            0.0,
            "0 acknowledged, 0 read back, no acknowledged write was recorded (item column empty)",
        ),
    ],
)
def test_durability_check_details(
    durability: dict[str, Any] | None, measured: float | None, detail: str
) -> None:
    check = durability_check(2, durability)
    assert check.name == "durability: lost acknowledged writes <= 2"
    assert (check.phase, check.threshold, check.unit) == ("after", 2.0, "writes")
    assert (check.measured, check.detail) == (measured, detail)
    assert check.passed is (measured is not None and measured <= 2)


# ------------------------------------------------------------------ warnings
def _with_durability(tmp_path: Path, durability: dict[str, Any] | None, **meta_kw: Any) -> Any:
    run = write_run(tmp_path / "run", steady(0, 5, 2), [], run_meta=meta(**meta_kw))
    if durability is not None:
        (run / "durability.json").write_text(json.dumps(durability))
    return analyse(load_run(run)).to_json_dict()["warnings"]


def test_warnings_are_exact(tmp_path: Path) -> None:
    assert _with_durability(tmp_path / "a", None) == []
    assert _with_durability(tmp_path / "b", None, generator={"saturated": True}) == [
        "the load generator was saturated (CPU bound): latency includes generator delay"
    ]
    assert _with_durability(tmp_path / "c", {"acked": 0, "selected": 0}) == [
        "durability: no acknowledged write was recorded; does the workload fill "
        "the samples' item column?"
    ]
    assert _with_durability(
        tmp_path / "d", {"acked": 9, "selected": 10, "unknown": 1, "unchecked": 2}
    ) == [
        "durability: 3 of 10 read-backs gave no definite answer (error, timeout or time budget); "
        "they are not counted as lost"
    ]
    assert _with_durability(tmp_path / "e", {"acked": 9, "selected": 10, "unchecked": 2})[
        0
    ].startswith("durability: 2 of 10")
    assert _with_durability(tmp_path / "f", {"acked": 0, "error": "x", "unknown": 3}) == []


def test_no_request_warning(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", samples([-1.0], ["ok"]), [])
    assert analyse(load_run(run)).to_json_dict()["warnings"] == [
        "no measured request: every metric is empty"
    ]


def test_errors_from_run_json_and_events_are_merged_once(tmp_path: Path) -> None:
    events = fault_events("k", 1.0, 1.5, 3.0, revert_ok=False)
    run_meta = meta(errors=["REVERT FAILED: k", "fault k#0 could not be reverted: start failed"])
    s = analyse(
        load_run(write_run(tmp_path / "run", steady(0, 5, 2), events, run_meta=run_meta))
    ).to_json_dict()
    assert s["errors"] == ["REVERT FAILED: k", "fault k#0 could not be reverted: start failed"]
    assert s["verdict"] == "error"


def test_scenario_percentiles_reach_every_phase(tmp_path: Path) -> None:
    doc = scenario({"latency": [{"percentile": 75, "max": "1s", "phase": "baseline"}]})
    s = analyse(load_run(kill_run(tmp_path / "run"))).to_json_dict()
    assert "p75" not in s["metrics"]["overall"]["latency_ms"]["raw"]
    (tmp_path / "run" / "scenario.json").write_text(json.dumps(doc))
    s = analyse(load_run(tmp_path / "run")).to_json_dict()
    for phase in ("overall", "baseline", "during_faults", "recovery", "after_recovery"):
        assert "p75" in s["metrics"][phase]["latency_ms"]["raw"]
    assert s["metrics"]["baseline"]["latency_ms"]["raw"]["p75"] == 10.007


# ------------------------------------------------------------------ events with fields missing
def test_fault_window_from_a_minimal_apply_event() -> None:
    (w,) = fault_windows([{"kind": "fault.apply", "fault": "k", "wall": T0 + 5.0}], T0)
    assert w == FaultWindow(
        name="k",
        type="?",
        index=None,
        occurrence=0,
        targets=(),
        planned_s=None,
        applied=False,
        injected_s=5.0,  # no wall_start: the event's own wall time
        in_effect_s=5.0,  # no wall_end: in effect when injected
        reverted_s=None,
        revert_ok=None,
        self_healing=False,
        error=None,
    )
    (bare,) = fault_windows([{"kind": "fault.apply", "fault": "k"}], T0)
    assert bare.injected_s == 0.0  # no time at all: t0


def test_fault_window_fields_are_read_from_the_events() -> None:
    apply = {
        "kind": "fault.apply", "fault": "k", "type": "pause", "index": 2, "targets": ["a", "b"],
        "planned": 4.0, "wall_start": T0 + 4.5, "wall_end": T0 + 4.75, "ok": True,
        "self_healing": True, "error": "late",
    }  # fmt: skip
    revert = {"kind": "fault.revert", "fault": "k", "wall_start": T0 + 9.0}  # no ok: failed
    (w,) = fault_windows([apply, revert], T0)
    assert (w.type, w.index, w.targets, w.planned_s) == ("pause", 2, ("a", "b"), 4.0)
    assert (w.applied, w.self_healing, w.error) == (True, True, "late")
    assert (w.injected_s, w.in_effect_s, w.reverted_s, w.revert_ok) == (4.5, 4.75, 9.0, False)
    later = {**apply, "occurrence": 1, "wall_start": T0 + 20.0}
    first, second = fault_windows([later, apply, revert], T0)  # sorted by injection
    assert (first.key, first.reverted_s) == ("k#0", 9.0)
    assert (second.key, second.reverted_s) == ("k#1", None)  # the revert is occurrence 0's


# ------------------------------------------------------------------ series edges
def test_series_of_an_empty_run() -> None:
    ts = timeseries(timeline(samples([], []), T0), 0.0)
    assert ts == {
        "t": [], "requests": [], "failed": [], "dropped": [], "error_rate": [],
        "p50_ms": [], "p90_ms": [], "p99_ms": [], "max_ms": [],
    }  # fmt: skip


def test_series_count_dropped_apart_and_leave_out_late_requests() -> None:
    frame = samples([0.2, 0.4, 1.5], ["ok", "dropped", "ok"], [1.0, 5.0, 1.0])
    ts = timeseries(timeline(frame, T0), 1.0)  # one bucket: the request at 1.5 is after it
    assert (ts["requests"], ts["dropped"], ts["failed"]) == ([1], [1], [0])
    assert ts["max_ms"] == [1.0]  # the dropped request's latency is not counted
    ts3 = timeseries(timeline(frame, T0), 3.0)
    assert (ts3["requests"], ts3["dropped"]) == ([1, 1, 0], [1, 0, 0])
    late = timeseries(timeline(samples([0.5, 2.5], ["ok", "ok"], 1.0), T0), 2.0)
    assert late["requests"] == [1, 0]  # 2.5 s is after the end: in no bucket


def test_phase_metrics_count_failures_and_corrected_percentiles(tmp_path: Path) -> None:
    s = analyse(load_run(kill_run(tmp_path / "run"))).to_json_dict()
    assert (s["metrics"]["overall"]["ok"], s["metrics"]["overall"]["failed"]) == (480, 120)
    frame = samples([1.0, 2.0, 3.0, 4.0], ["ok"] * 4, 1.0, delay_ms=[0.0, 1.0, 2.0, 3.0])
    doc = scenario({"latency": [{"percentile": 75, "max": "1s"}]}, faults=[])
    s = analyse(load_run(write_run(tmp_path / "open", frame, [], scenario_doc=doc))).to_json_dict()
    corrected = s["metrics"]["overall"]["latency_ms"]["corrected"]
    # corrected = 1 ms + lag: 1000, 2000, 3000, 4000 µs; from 2048 µs buckets are 2 µs wide
    assert (corrected["p75"], corrected["p50"], corrected["max"]) == (3.001, 2.0, 4.001)


# ------------------------------------------------------------------ reading a run folder
def test_missing_inputs_are_named(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", None, [])
    (run / "events.jsonl").unlink()
    (run / "scenario.json").unlink()
    inputs = load_run(run)
    assert inputs.run_dir == run
    assert inputs.missing == [
        "scenario.json is missing: SLO checks cannot be evaluated",
        "events.jsonl is missing: fault windows are unknown",
        "samples.parquet is missing: no request was recorded",
    ]
    assert list(inputs.samples.frame().columns) == list(SAMPLE_COLUMNS)


@pytest.mark.parametrize(
    ("present", "t0"),
    [({"ended_wall": T0 + 3}, T0 + 3), ({"started_wall": T0 + 1}, T0 + 1), ({}, 0.0)],
)
def test_a_run_that_never_started_is_anchored_at_its_end(
    tmp_path: Path, present: dict[str, float], t0: float
) -> None:
    run_meta = {
        k: v for k, v in meta().items() if k not in ("t0_wall", "ended_wall", "started_wall")
    }
    inputs = load_run(write_run(tmp_path / "run", None, [], run_meta={**run_meta, **present}))
    assert inputs.meta["t0_wall"] == t0
    assert inputs.missing[0] == (
        "the load never started (run.json has no t0_wall): no request was measured"
    )


def test_unreadable_inputs(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", None, [])
    (run / "samples.parquet").write_text("not parquet")
    (run / "durability.json").write_text("{broken")
    (run / "scenario.json").write_text(json.dumps({"version": 1}))
    inputs = load_run(run)
    assert inputs.scenario is None
    assert re.fullmatch(r"scenario.json does not validate \(\d+ problems\)", inputs.missing[0])
    assert inputs.missing[1].startswith("samples.parquet is unreadable (")
    assert inputs.missing[1].endswith("); metrics are empty")
    assert inputs.missing[2].startswith(f"durability.json is unreadable: cannot read {run}")
    assert inputs.durability is None


def test_samples_with_a_column_missing_or_extra(tmp_path: Path) -> None:
    frame = samples([1.0], ["ok"]).drop(columns=["outcome"])
    inputs = load_run(write_run(tmp_path / "a", frame, []))
    expected = [c for c in SAMPLE_COLUMNS if c != "item"]
    assert inputs.missing == [f"samples.parquet lacks columns {['outcome']}; metrics are empty"]
    assert inputs.samples.frame().empty
    extra = samples([1.0], ["ok"]).assign(junk=1)
    inputs = load_run(write_run(tmp_path / "b", extra, []))
    assert inputs.missing == []
    assert sorted(inputs.samples.frame().columns) == sorted(
        [*expected, "item"]
    )  # no junk, item added
    assert inputs.samples.frame()["item"].tolist() == [""]


def test_damaged_json_files(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", None, [])
    (run / "run.json").write_text("[1, 2]")
    with pytest.raises(ReportError) as err:
        load_run(run)
    assert (err.value.message, err.value.hint) == (
        f"{run / 'run.json'} does not hold a JSON object",
        "re-run the scenario",
    )
    (run / "run.json").write_text("{")
    with pytest.raises(ReportError) as err:
        load_run(run)
    assert err.value.message.startswith(f"cannot read {run / 'run.json'}: ")
    assert err.value.hint == "the run folder is damaged; re-run the scenario"
    with pytest.raises(ScenarioError) as missing:
        load_run(tmp_path)
    assert missing.value.message == f"{tmp_path} is not a run folder (no run.json)"
    assert missing.value.hint == "pass a folder such as reports/<scenario>/<timestamp>/"


# ------------------------------------------------------------------ timeline and histogram edges
def test_requests_started_at_the_same_microsecond_keep_their_order() -> None:
    # 100 rows, two start times interleaved: the sort must be stable (outcomes keep order)
    times = [2.0 if i % 3 == 0 else 1.0 for i in range(100)]
    outcomes = ["ok" if i % 2 == 0 else "timeout" for i in range(100)]
    tl = timeline(samples(times, outcomes), T0)
    ones = [o for t, o in zip(times, outcomes, strict=True) if t == 1.0]
    twos = [o for t, o in zip(times, outcomes, strict=True) if t == 2.0]
    ok_code = 0  # OUTCOMES[0] == "ok"
    assert [c == ok_code for c in tl.outcome.tolist()] == [o == "ok" for o in ones + twos]


def test_span_is_the_half_open_row_range() -> None:
    tl = timeline(samples([0.5, 1.0, 1.5, 2.0, 2.5], ["ok"] * 5), T0)
    assert tl.span(1.0, 2.0) == slice(1, 3)
    assert tl.span(0.0, 9.0) == slice(0, 5)
    assert tl.span(2.6, 9.0) == slice(5, 5)


def test_dropped_and_odd_latencies_become_microseconds() -> None:
    frame = samples([1.0, 2.0, 3.0], ["dropped", "ok", "ok"], [5.0, 0.0004, -3.0])
    tl = timeline(frame, T0)
    assert tl.raw_us.tolist() == [0, 0, 0]  # NaN (dropped) -> 0; 0.4 µs rounds to 0; < 0 -> 0
    assert tl.has_schedule is False


def test_histogram_edges() -> None:
    one = Histogram.of(np.array([3000], dtype=np.int64))  # bucket [3000, 3001]
    assert (one.max_us, one.max_value()) == (3000, 3001)
    empty = Histogram.of(np.array([], dtype=np.int64))
    assert (empty.max_us, empty.max_value(), empty.total) == (0, 0, 0)
    two = Histogram.of(np.array([3000, 5000], dtype=np.int64))  # 5000 -> [5000, 5003]
    # p0 reports the lowest value of the first bucket, any other percentile the highest
    assert two.value_at([0.0, 1.0, 50.0, 100.0, 150.0]).tolist() == [3000, 3001, 3001, 5003, 5003]


def test_phases_with_overlapping_faults_merge_into_one_interval() -> None:
    a = fault_windows(fault_events("a", 10.0, 10.5, 20.0), T0)[0]
    b = fault_windows(fault_events("b", 15.0, 15.5, 30.0), T0)[0]
    p = phases([a, b], {"a#0": 25.0, "b#0": 32.0}, 60.0)
    assert p.intervals("during_faults") == [(10.0, 30.0)]
    assert p.intervals("recovery") == [(30.0, 32.0)]
    assert p.intervals("after_recovery") == [(32.0, 60.0)]
    assert p.duration("baseline") == 10.0


def test_a_fault_from_the_first_instant_to_the_end_is_one_phase() -> None:
    (w,) = fault_windows(fault_events("k", 0.0, 0.1), T0)  # never reverted
    p = phases([w], {}, 10.0)
    assert p.label_of(np.array([0.0, 5.0, 9.9])).tolist() == [1, 1, 1]  # during_faults
    assert p.intervals("baseline") == []


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"kind": "fault.apply", "fault": "k"}, "fault k#0 was not applied"),
        ({"kind": "fault.apply", "fault": "k", "ok": True}, None),
        (
            {"kind": "fault.revert", "fault": "k", "occurrence": 2},
            "fault k#2 could not be reverted",
        ),
        ({"kind": "fault.revert", "fault": "k", "ok": True}, None),
        ({"kind": "fault.error", "fault": "k", "message": "boom"}, "fault k#0 failed: boom"),
        ({"kind": "fault.error", "fault": "k", "error": "bad"}, "fault k#0 failed: bad"),
        ({"kind": "fault.error", "fault": "k"}, "fault k#0 failed: "),
        ({"kind": "phase", "fault": "k"}, None),
    ],
)
def test_infrastructure_errors(event: dict[str, Any], error: str | None) -> None:
    assert infrastructure_errors([event]) == ([] if error is None else [error])


# ------------------------------------------------------------------ last gaps found by mutmut
def test_check_details_and_missing_phases() -> None:
    doc = scenario(
        {
            "availability": {"overall": 0.5, "baseline": 0.5},
            "latency": [{"percentile": 99, "max": "1s", "phase": "baseline"}],
            "recovery": {"max": 9},
            "max_failure_span": 2,
        },
        faults=[{"type": "kill", "target": {"service": "app"}, "at": 1, "for": 1}],
    )
    metrics = {"overall": {"availability": 1.0, "latency_ms": {"raw": {"p99": 5.0}}}}
    faults = [
        {"applied": True, "index": 0, "key": "a#0", "ttr_s": None, "recovery_note": "never"},
        {"applied": True, "index": None, "key": "b#0", "ttr_s": 1.0, "recovery_note": "x"},
        {"applied": True, "index": 1, "key": "c#0", "ttr_s": 1.0},  # index beyond the faults
        {"applied": False, "index": 0, "key": "d#0", "ttr_s": None},
    ]
    got = evaluate(Scenario.model_validate(doc), metrics, faults, 2.0)
    assert [(c.name, c.measured, c.threshold, c.passed, c.detail) for c in got] == [
        ("availability overall >= 50%", 1.0, 0.5, True, ""),
        ("availability baseline >= 50%", None, 0.5, False, "no requests in phase baseline"),
        ("latency p99 (raw) baseline <= 1000 ms", None, 1000.0, False,
         "no requests in phase baseline"),
        ("time to recover a#0 <= 9 s", None, 9.0, False, "never"),
        ("time to recover b#0 <= 9 s", 1.0, 9.0, True, ""),
        ("time to recover c#0 <= 9 s", 1.0, 9.0, True, ""),
        ("longest failure span <= 2 s", 2.0, 2.0, True, ""),  # exactly at the threshold
    ]  # fmt: skip


def test_compare_edges() -> None:
    same = compare_runs(_summary("b", 1.0, 10.0, "raw", []), _summary("n", 1.0, 10.0, "raw", []))
    assert same.rows[1].note == ""
    base = _summary("b", 1.0, 10.0, "raw", [("k#0", None)])
    new = _summary("n", 1.0, 10.0, "raw", [("k#0", 3.0)])
    (row,) = compare_runs(base, new).rows[2:]  # the base never recovered, the new one did
    assert (row.base, row.new, row.delta, row.regressed, row.note) == (None, 3.0, None, False, "")


def test_end_of_run_defaults() -> None:
    empty = timeline(samples([], []), T0)
    assert end_of_run({"t0_wall": T0}, empty) == 0.0
    assert end_of_run({"t0_wall": T0, "duration": 5}, empty) == 5.0
    assert end_of_run({"t0_wall": T0, "cooldown": 2}, empty) == 2.0


def test_ttr_with_a_single_candidate_window() -> None:
    reqs = Requests(np.array([11.5, 12.0]), np.array([True, True]))
    assert time_to_recover(reqs, 11.2, 1.0, 1.0, 12.2) == 0.0  # only [11.2, 12.2) fits


def test_series_of_a_single_request_and_of_a_hundred() -> None:
    one = timeseries(timeline(samples([0.5], ["ok"], 1.0), T0), 3.0)
    assert one["p50_ms"] == [1.0, None, None]
    # 100 requests in second 0, 0.01 … 1.00 ms (exact µs): p99 is the 99th, 0.99 ms
    lat = [(i + 1) / 100 for i in range(100)]
    hundred = timeseries(
        timeline(samples([i / 200 for i in range(100)], ["ok"] * 100, lat), T0), 1.0
    )
    assert (hundred["p50_ms"], hundred["p99_ms"], hundred["max_ms"]) == ([0.5], [0.99], [1.0])


def test_each_fault_gets_its_own_outage(tmp_path: Path) -> None:
    frame = pd.concat(
        [
            steady(0, 5, 10),
            steady(5, 6, 10, "refused"),  # fault a: 5.0 … 5.9, then ok at 6.0
            steady(6, 20, 10),
            steady(20, 30, 10, "refused"),  # fault b: 20.0 … 29.9, ok at 30.0
            steady(30, 60, 10),
        ]
    )
    events = fault_events("a", 5.0, 5.1, 6.0) + fault_events("b", 20.0, 20.1, 30.0)
    s = analyse(load_run(write_run(tmp_path / "run", frame, events))).to_json_dict()
    a, b = s["faults"]
    assert (a["outage_s"], b["outage_s"]) == (pytest.approx(1.0), pytest.approx(10.0))
    assert s["longest_failure_span"]["seconds"] == pytest.approx(10.0)


def test_fault_not_applied_has_no_detection_and_no_inflation(tmp_path: Path) -> None:
    frame = pd.concat([steady(0, 20, 10, "refused"), steady(20, 60, 10)])
    run = write_run(tmp_path / "run", frame, fault_events("k", 0.0, 0.1, 10.0, ok=False))
    (f,) = analyse(load_run(run)).to_json_dict()["faults"]
    assert (f["applied"], f["detection_s"]) == (False, None)
    # an applied fault from t = 0 leaves no baseline: its p99 inflation is unknown
    run = write_run(tmp_path / "run2", frame, fault_events("k", 0.0, 0.1, 10.0))
    (f,) = analyse(load_run(run)).to_json_dict()["faults"]
    assert (f["detection_s"], f["p99_inflation"]) == (0.0, None)


def test_analysis_without_a_scenario(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run")
    (run / "scenario.json").unlink()
    s = analyse(load_run(run)).to_json_dict()
    assert (s["checks"], s["verdict"]) == ([], "error")
    assert s["faults"][0]["ttr_s"] == 2.0  # default recovery window 5 s, SLO 99 %
