"""Steady-state probes judged on hand-made answers (harness/analysis/steady.py)."""

from __future__ import annotations

import json
from typing import Any

from harness.analysis.slo import CheckResult
from harness.analysis.steady import (
    Answer,
    judge,
    not_steady_message,
    steady_checks,
    steady_rounds,
)
from harness.scenario.guards import SteadyProbe


def probe(**kw: Any) -> SteadyProbe:
    return SteadyProbe.model_validate({"path": "/api/status", **kw})


def ok_json(doc: Any, latency_ms: float = 12.0, status: int = 200) -> Answer:
    return Answer(status, json.dumps(doc).encode(), latency_ms)


def test_status_is_checked_first() -> None:
    r = judge(probe(json={"path": "$.state", "equals": "ok"}), ok_json({"state": "ok"}, status=503))
    assert (r.ok, r.saw, r.status) == (False, "status 503, expected 200", 503)
    r = judge(probe(status=[200, 204]), Answer(204, b"", 3.0))
    assert r.ok and r.saw == "status 204 in 3.0 ms"


def test_no_answer() -> None:
    r = judge(probe(), Answer(0, b"", 1000.0, "ConnectionRefusedError: refused"))
    assert not r.ok and r.saw == "no answer: ConnectionRefusedError: refused"
    assert r.probe == "/api/status"  # no name: the path labels it


def test_latency_bound_is_inclusive() -> None:
    p = probe(max_latency="250ms", name="fast status")
    assert judge(p, ok_json({}, latency_ms=250.0)).ok
    r = judge(p, ok_json({}, latency_ms=250.5))
    assert not r.ok and r.saw == "answered in 250.5 ms, bound 250 ms"
    assert r.probe == "fast status"


def test_json_value() -> None:
    p = probe(json={"path": "$.jobs[1].state", "equals": "idle"})
    doc = {"jobs": [{"state": "busy"}, {"state": "idle"}]}
    assert judge(p, ok_json(doc)).ok
    r = judge(p, ok_json({"jobs": [{"state": "busy"}, {"state": "stuck"}]}))
    assert not r.ok and r.saw == "$.jobs[1].state = 'stuck', expected 'idle'"
    r = judge(p, ok_json({"jobs": []}))
    assert not r.ok and r.saw == "$.jobs[1].state not found"
    r = judge(p, Answer(200, b"<html>", 1.0))
    assert not r.ok and r.saw == "the body is not JSON"


def test_json_path_with_quoted_keys() -> None:
    p = probe(json={"path": "$['queue stats'].depth", "equals": 3})
    assert judge(p, ok_json({"queue stats": {"depth": 3}})).ok
    r = judge(p, ok_json({"queue stats": [3]}))
    assert not r.ok and r.saw == "$['queue stats'].depth not found"


def test_json_numbers_and_booleans_are_told_apart() -> None:
    count = probe(json={"path": "$.queue", "equals": 0})
    assert judge(count, ok_json({"queue": 0})).ok
    assert judge(count, ok_json({"queue": 0.0})).ok  # 0 and 0.0 are the same JSON number
    r = judge(count, ok_json({"queue": False}))
    assert not r.ok and r.saw == "$.queue = false, expected 0"
    flag = probe(json={"path": "$.ready", "equals": True})
    assert not judge(flag, ok_json({"ready": 1})).ok
    assert judge(flag, ok_json({"ready": True})).ok
    null = probe(json={"path": "$.error", "equals": None})
    assert judge(null, ok_json({"error": None})).ok
    assert not judge(null, ok_json({"error": "disk full"})).ok


def test_not_steady_message() -> None:
    r = judge(probe(name="jobs", json={"path": "$.state", "equals": "ok"}), ok_json({"state": "x"}))
    assert not_steady_message(r) == "system not steady: jobs: $.state = 'x', expected 'ok'"


def _round(stage: str, *oks: bool) -> dict[str, Any]:
    results = [
        {"probe": f"p{i}", "ok": ok, "saw": "fine" if ok else "bad", "status": 200}
        for i, ok in enumerate(oks)
    ]
    return {"kind": "steady", "stage": stage, "ok": all(oks), "results": results}


def test_checks_per_probe_and_stage() -> None:
    rounds = steady_rounds(
        [{"kind": "phase"}, _round("before", True, True), _round("after", True, False)]
    )
    checks = steady_checks(rounds, expected=True)
    assert [(c.name, c.phase, c.passed, c.detail) for c in checks] == [
        ("steady state before the faults: p0", "steady:before", True, "fine"),
        ("steady state before the faults: p1", "steady:before", True, "fine"),
        ("steady state after the cooldown: p0", "steady:after", True, "fine"),
        ("steady state after the cooldown: p1", "steady:after", False, "bad"),
    ]


def test_a_missing_after_round_fails_only_when_it_was_owed() -> None:
    steady_before = steady_rounds([_round("before", True)])
    [*_, missing] = steady_checks(steady_before, expected=True)
    assert (missing.phase, missing.passed, missing.measured) == ("steady:after", False, None)
    assert len(steady_checks(steady_before, expected=False)) == 1  # interrupted: not owed
    unsteady = steady_rounds([_round("before", False)])  # refused before: no after round
    assert [c.passed for c in steady_checks(unsteady, expected=True)] == [False]


def test_latency_bound_in_ms_is_exact() -> None:
    # 1001ms is 1.001 s; 1.001 * 1000 is 1000.9999999999999 in floats, yet 1001 ms holds.
    assert judge(probe(max_latency="1001ms"), ok_json({}, latency_ms=1001.0)).ok


def test_every_failure_is_false_not_just_falsy() -> None:
    p = probe(json={"path": "$.state", "equals": "ok"}, max_latency="250ms")
    failures = [
        judge(p, Answer(0, b"", 5.0, "timeout")),
        judge(p, ok_json({"state": "ok"}, latency_ms=300.0)),
        judge(p, Answer(200, b"<html>", 5.0)),
        judge(p, ok_json({"other": 1})),
        judge(p, ok_json({"state": "down"})),
    ]
    assert [r.ok for r in failures] == [False] * 5
    assert all(r.ok is False for r in failures)


def test_the_result_keeps_the_latency_rounded_to_a_microsecond() -> None:
    r = judge(probe(), Answer(200, b"", 12.34567))
    # 12.34567 ms rounded to 3 decimals is 12.346 (not 12, 12.3457 or 3).
    assert r.latency_ms == 12.346 and isinstance(r.latency_ms, float)
    assert r.saw == "status 200 in 12.3 ms"


def test_all_accepted_statuses_are_listed() -> None:
    r = judge(probe(status=[200, 204]), Answer(503, b"", 1.0))
    assert r.saw == "status 503, expected 200, 204"


def test_latency_bound_keeps_its_fraction_of_a_millisecond() -> None:
    p = probe(max_latency="250.5ms")
    assert judge(p, ok_json({}, latency_ms=250.4)).ok  # 250.4 <= 250.5, not > 250 or 251
    assert judge(p, ok_json({}, latency_ms=250.5)).ok
    r = judge(p, ok_json({}, latency_ms=250.6))
    assert r.ok is False and r.saw == "answered in 250.6 ms, bound 250.5 ms"
    # 250 ms is 250.0 ms, not 250.25 (a factor 1001): 250.1 ms is over the bound.
    assert not judge(probe(max_latency="250ms"), ok_json({}, latency_ms=250.1)).ok


def test_latency_bound_is_rounded_to_a_nanosecond() -> None:
    # 0.1000000004 s is 100.0000004 ms; rounded to 6 decimals of a ms (1 ns) the bound is
    # 100.0 ms, so 100.0000002 ms is over it.
    p = probe(max_latency="0.1000000004s")
    assert not judge(p, ok_json({}, latency_ms=100.0000002)).ok
    assert judge(p, ok_json({}, latency_ms=100.0)).ok


def test_long_values_are_cut_to_80_characters() -> None:
    p = probe(json={"path": "$.v", "equals": "ok"})
    exact = "a" * 78  # repr adds two quotes: exactly 80 characters, shown whole
    r = judge(p, ok_json({"v": exact}))
    assert r.saw == f"$.v = '{exact}', expected 'ok'"
    longer = "b" * 79  # 81 characters: the first 79, then an ellipsis
    r = judge(p, ok_json({"v": longer}))
    assert r.saw == "$.v = '" + "b" * 78 + "…, expected 'ok'"


def test_a_missing_after_round_is_one_failed_check() -> None:
    checks = steady_checks(steady_rounds([_round("before", True)]), expected=True)
    assert checks[-1] == CheckResult(
        name="steady state after the cooldown",
        phase="steady:after",
        measured=None,
        threshold=1.0,
        unit="probes",
        passed=False,
        detail="not checked: the run ended before the end of the cooldown",
    )


def test_each_probe_check_in_full() -> None:
    rounds = {
        "before": [{"probe": "a", "ok": True, "saw": "status 200 in 1.0 ms"}],
        "after": [{"probe": "b", "ok": False}],  # no "saw": empty detail
    }
    assert steady_checks(rounds, expected=True) == [
        CheckResult(
            name="steady state before the faults: a",
            phase="steady:before",
            measured=1.0,
            threshold=1.0,
            unit="holds",
            passed=True,
            detail="status 200 in 1.0 ms",
        ),
        CheckResult(
            name="steady state after the cooldown: b",
            phase="steady:after",
            measured=0.0,
            threshold=1.0,
            unit="holds",
            passed=False,
            detail="",
        ),
    ]


def test_an_after_round_without_a_before_round_is_still_checked() -> None:
    checks = steady_checks({"after": [{"probe": "a", "ok": True, "saw": "x"}]}, expected=True)
    assert [(c.name, c.passed) for c in checks] == [("steady state after the cooldown: a", True)]
