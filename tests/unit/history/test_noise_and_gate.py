"""The noise band, the gate's judgement and repeat spreads, on hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from harness.analysis.figures import BY_NAME
from harness.analysis.gate import GatePolicy, judge, judge_figure, select_baseline
from harness.analysis.noise import band, mad, noise_probability, spread, worse_by
from harness.analysis.runrecord import HostNoise, RunRecord

P99, AVAIL, LOST = BY_NAME["p99_ms"], BY_NAME["availability"], BY_NAME["lost_writes"]


def test_mad_is_scaled_to_a_standard_deviation() -> None:
    # median 3; absolute deviations 2 1 0 1 97 -> median 1
    assert mad([1, 2, 3, 4, 100]) == pytest.approx(1.4826)


def test_band_uses_the_figures_floor_when_the_baseline_barely_varies() -> None:
    b = band([10, 11, 12, 13, 14], P99)  # MAD 1.4826 < floor 5 ms / 3
    assert b is not None
    assert (b.centre, b.scale, b.low, b.high, b.n) == (12, pytest.approx(5 / 3), 7, 17, 5)
    wide = band([10, 20, 30, 40, 50], P99)  # MAD 10 x 1.4826
    assert wide is not None and wide.scale == pytest.approx(14.826)
    assert band([], P99) is None


def test_a_figure_outside_its_band_is_a_regression_with_its_noise_probability() -> None:
    base = [10.0, 11.0, 12.0, 13.0, 14.0]
    bad = judge_figure(18.0, base, P99, 3.0)
    assert bad.status == "regressed"
    assert bad.z == pytest.approx(3.6)  # (18 - 12) / (5/3)
    assert bad.p_noise == pytest.approx(1 / 6)  # worse than all 5: (0 + 1) / (5 + 1)
    assert bad.p_normal == pytest.approx(0.5 * math.erfc(3.6 / math.sqrt(2)))
    assert bad.p_normal == pytest.approx(1.591e-4, rel=1e-3)
    assert judge_figure(16.9, base, P99, 3.0).status == "within noise"
    assert judge_figure(6.0, base, P99, 3.0).status == "better"
    assert judge_figure(None, base, P99, 3.0).status == "not measured"
    assert judge_figure(5.0, [], P99, 3.0).status == "no baseline"


def test_a_value_some_baseline_runs_also_reached_is_noise_however_far_from_the_median() -> None:
    # heavy-tailed timing noise: median 5, MAD 1 x 1.4826, but one run reached 111 ms
    base = [3.0, 4.0, 5.0, 6.0, 111.0]
    slow = judge_figure(24.0, base, P99, 3.0)
    assert slow.z == pytest.approx((24 - 5) / (5 / 3))  # the 5 ms floor: scale 5/3
    assert (slow.status, slow.p_noise) == ("within noise", pytest.approx(2 / 6))
    assert judge_figure(112.0, base, P99, 3.0).status == "regressed"
    assert judge_figure(111.0, base, P99, 3.0).status == "within noise"  # ties are noise


def test_availability_is_better_higher_and_one_failed_request_is_noise() -> None:
    base = [1.0] * 5  # never varied: the floor 0.2 percentage points is the band
    assert judge_figure(0.999, base, AVAIL, 3.0).status == "within noise"
    worse = judge_figure(0.997, base, AVAIL, 3.0)
    assert worse.status == "regressed" and worse.z == pytest.approx(4.5)
    assert judge_figure(1.0, [0.99] * 5, AVAIL, 3.0).status == "better"


def test_a_lost_write_after_none_is_a_regression_noise_cannot_explain() -> None:
    lost = judge_figure(1.0, [0.0] * 5, LOST, 3.0)
    assert (lost.status, lost.z, lost.p_normal) == ("regressed", math.inf, 0.0)
    assert lost.p_noise == pytest.approx(1 / 6)
    assert judge_figure(0.0, [0.0] * 5, LOST, 3.0).status == "within noise"


def test_noise_probability_is_the_normal_tail() -> None:
    assert noise_probability(0.0) == 0.5
    assert noise_probability(3.0) == pytest.approx(0.0013499, rel=1e-4)
    b = band([1.0, 1.0, 1.0], LOST)
    assert b is not None and worse_by(1.0, b, LOST) == 0.0


def test_spread_gives_a_student_t_interval_of_the_mean() -> None:
    s = spread([1.0, 2.0, 3.0])
    assert s is not None
    assert (s.n, s.mean, s.sd, s.low, s.high) == (3, 2.0, 1.0, 1.0, 3.0)
    half = 4.303 / math.sqrt(3)  # t(0.975, 2 df) x sd / sqrt(n)
    assert (s.ci_low, s.ci_high) == (pytest.approx(2 - half), pytest.approx(2 + half))
    one = spread([5.0])
    assert one is not None and (one.sd, one.ci_low) == (None, None)
    assert spread([]) is None


def rec(run_id: str, at: float, p99: float | None = 12.0, **kw: object) -> RunRecord:
    base: dict[str, object] = {
        "run_id": run_id,
        "scenario": "kill",
        "verdict": "pass",
        "started_at": at,
        "host_cores": 2,
        "figures": {"availability": 1.0, "p99_ms": p99},
    }
    base.update(kw)
    return RunRecord(**base)  # type: ignore[arg-type]


BUSY = HostNoise(15.0, 2, 0.0, 1.5, True, "host busy: load 15.0 on 2 cores during the faults")


def test_the_baseline_is_recent_expected_runs_of_the_same_scenario_and_host_class() -> None:
    run = rec("new", 100.0)
    candidates = [
        rec("old", 1.0),
        rec("ok1", 50.0),
        rec("ok2", 60.0),
        rec("other-scenario", 70.0, scenario="pause"),
        rec("four-cores", 71.0, host_cores=4),
        rec("swarm", 72.0, engine="swarm"),
        rec("failed", 73.0, verdict="fail"),
        rec("later", 120.0),
        rec("busy", 80.0, host=BUSY),
        rec("new", 100.0),
    ]
    base, busy = select_baseline(run, candidates, GatePolicy(window=3))
    assert ([b.run_id for b in base], busy) == (["busy", "ok2", "ok1"], 0)
    base, busy = select_baseline(run, candidates, GatePolicy(window=3, exclude_busy=True))
    assert ([b.run_id for b in base], busy) == (["ok2", "ok1", "old"], 1)
    # a scenario that must fail: its baseline is its earlier failing runs
    must_fail = rec("nf", 100.0, verdict="fail", expected="fail")
    expected_fail = [rec("f1", 10.0, verdict="fail", expected="fail"), rec("p1", 11.0)]
    assert [b.run_id for b in select_baseline(must_fail, expected_fail, GatePolicy())[0]] == ["f1"]


def test_judge_flags_the_figure_outside_its_band_and_notes_why() -> None:
    history = [rec(f"b{i}", float(i), p99) for i, p99 in enumerate([10, 11, 12, 13, 14])]
    slow = judge(rec("new", 100.0, 18.0), history)
    assert slow.judged and slow.regressed and not slow.verdict_regressed
    assert [j.figure for j in slow.regressions()] == ["p99_ms"]
    assert slow.baseline == ("b4", "b3", "b2", "b1", "b0")
    assert {j.figure: j.status for j in slow.judgements} == {
        "availability": "within noise",
        "p99_ms": "regressed",
    }
    assert judge(rec("new", 100.0, 16.0), history).regressed is False
    failed = judge(rec("new", 100.0, 12.0, verdict="fail"), history)
    assert failed.verdict_regressed and failed.regressed


def test_too_short_a_history_is_not_judged() -> None:
    history = [rec(f"b{i}", float(i)) for i in range(4)]
    result = judge(rec("new", 100.0, 999.0, verdict="fail"), history)
    assert not result.judged and not result.regressed and result.judgements == ()
    assert (
        "no baseline: 4 earlier run(s) with the expected verdict on compose, 2 cores, 5 needed"
        in (result.notes[0])
    )
