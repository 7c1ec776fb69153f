"""The results of capacity searches: the bend, the generator's advice, scaling, N+1, checks.

Every expected value is computed by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.analysis.capacity.checks import capacity_checks, experiment_verdict
from harness.analysis.capacity.curve import bend
from harness.analysis.capacity.document import (
    CapacityDocument,
    Configuration,
    HostNoise,
    SearchRecord,
    StepRecord,
    configuration_headroom,
    scaling_tables,
    search_record,
)
from harness.analysis.capacity.generator import advise
from harness.analysis.capacity.headroom import headroom, n_plus_1
from harness.analysis.capacity.scaling import ScalingPoint, scaling_rows
from harness.analysis.capacity.search import SearchLimits, SearchResult, SearchStep
from harness.errors import ScenarioError
from tests.unit.capacity_samples import SLO, measure, step

_m = measure


# --------------------------------------------------------------------------- bend
def test_the_curve_bends_where_p99_doubles_the_lowest_steps() -> None:
    steps = [_m(80, 30.0), _m(20, 20.0), _m(60, 39.9), _m(100, 40.0), _m(120, 900.0)]
    found = bend(steps)
    assert found is not None
    # base p99 = 20 ms at 20/s; 39.9 < 40 = 2 x 20; at 100/s p99 40 ms = 2.0 x
    assert (found.rate, found.below) == (100, 80)
    assert found.why == "p99 40 ms, 2.0x the 20 ms at 20/s"


def test_the_curve_bends_where_answers_fall_behind_the_offered_rate() -> None:
    found = bend([_m(10, 5.0), _m(20, 6.0, ok_share=0.94)])
    assert found is not None
    assert (found.rate, found.below, found.why) == (20, 10, "answered 94.0 % of the offered rate")
    first = bend([_m(10, 5.0, ok_share=0.5)])
    assert first is not None and (first.rate, first.below) == (10, None)


def test_a_flat_curve_never_bends() -> None:
    assert bend([_m(10, 5.0), _m(20, 9.9), _m(30, 5.0, ok_share=0.95)]) is None
    assert bend([]) is None


# --------------------------------------------------------------------------- generator
def test_advice_scales_a_hot_worker_to_the_target_cpu() -> None:
    # 1 worker sent 1200/s at 96 % of a core: at 75 % it carries 1200 x 75 / 96 = 937.5/s;
    # 5000/s needs ceil(5000 / 937.5) = ceil(5.33) = 6 workers: 2 here (2 cores), 4 elsewhere
    advice = advise(1200.0, 1, 96.0, 5000.0, cores=2)
    assert advice.per_worker_rps == pytest.approx(937.5)
    assert (advice.workers, advice.local, advice.remote) == (6, 2, 4)
    assert advice.text() == (
        "to offer 5000/s, run 6 load workers: 2 load process(es) here (load.processes) and"
        " 4 worker(s) on other machines; one carried about 938/s"
    )


def test_a_worker_that_was_not_busy_points_at_the_host() -> None:
    # late at 40 % CPU: the host was short of CPU; 2 workers carried 600/s, 300/s each,
    # not scaled up; 900/s would take 3, but the advice is a quieter host
    advice = advise(600.0, 2, 40.0, 900.0, cores=4, host_load=17.5)
    assert advice.busy_host
    assert advice.per_worker_rps == 300.0
    assert (advice.workers, advice.local, advice.remote) == (3, 3, 0)
    assert advice.text() == (
        "the load workers were not busy (at most 40 % CPU) yet sent late: the host was short"
        " of CPU (load average 17.5 on 4 cores); run the load on a quieter host, or as"
        " workers on other machines (docs/load.md#distributed-workers)"
    )
    assert "load average" not in advise(600.0, 2, 40.0, 900.0, cores=4).text()
    # 90 % is busy: the worker itself was the limit; a goal the workers could already
    # carry still asks for one more
    assert not advise(600.0, 2, 90.0, 100.0, cores=4).busy_host
    assert advise(600.0, 2, 90.0, 100.0, cores=4).workers == 3
    with pytest.raises(ValueError, match="positive rate"):
        advise(0.0, 1, 50.0, 10.0, cores=1)


# --------------------------------------------------------------------------- scaling
def test_efficiency_against_linear_and_the_marginal_replica() -> None:
    rows = scaling_rows(
        [
            ScalingPoint(replicas=2, capacity=90.0),
            ScalingPoint(replicas=1, capacity=50.0),
            ScalingPoint(replicas=4, capacity=150.0),
            ScalingPoint(replicas=3, capacity=135.0),
        ]
    )
    assert [r.replicas for r in rows] == [1, 2, 3, 4]
    # C0 = 50 at 1 replica: linear 50 n; efficiency 1, 90/100, 135/150, 150/200
    assert [r.linear for r in rows] == [50, 100, 150, 200]
    assert [r.efficiency for r in rows] == [1.0, 0.9, 0.9, 0.75]
    assert [r.speedup for r in rows] == [1.0, 1.8, 2.7, 3.0]
    # marginal: (90-50)/1/50 = 0.8, (135-90)/50 = 0.9, (150-135)/50 = 0.3
    assert [r.marginal for r in rows] == [None, 0.8, 0.9, 0.3]
    assert not any(r.lower_bound for r in rows)


def test_scaling_from_a_larger_first_count_and_with_gaps() -> None:
    rows = scaling_rows(
        [
            ScalingPoint(replicas=2, capacity=100.0),
            ScalingPoint(replicas=6, capacity=240.0, lower_bound=True),
            ScalingPoint(replicas=4, capacity=None),
        ]
    )
    # per replica 100 / 2 = 50: linear 100, 200, 300
    assert [(r.linear, r.efficiency, r.marginal) for r in rows] == [
        (100.0, 1.0, None),
        (200.0, None, None),  # no capacity at 4: no efficiency, no marginal either side
        (300.0, 0.8, None),
    ]
    assert [r.lower_bound for r in rows] == [False, False, True]
    # a gap of two replicas: (140 - 50) / (3 - 1) = 45/s per added replica = 90 % of one
    skipped = scaling_rows(
        [ScalingPoint(replicas=1, capacity=50.0), ScalingPoint(replicas=3, capacity=140.0)]
    )
    assert [r.marginal for r in skipped] == [None, 0.9]
    unknown_base = scaling_rows([ScalingPoint(replicas=1, capacity=None, lower_bound=True)])
    assert unknown_base[0].efficiency is None and unknown_base[0].lower_bound
    assert scaling_rows([]) == []


# --------------------------------------------------------------------------- N+1
def _steps(*pairs: tuple[float, str]) -> list[SearchStep]:
    return [SearchStep(rate=r, verdict=v, phase="ramp") for r, v in pairs]  # type: ignore[arg-type]


def test_n_plus_1_holds_fails_or_stays_unknown() -> None:
    assert n_plus_1(90, _steps((60, "good"), (90, "good"), (120, "bad"))) == (
        "holds",
        "a step at 90/s >= peak 90/s met the SLOs",
    )
    assert n_plus_1(90, _steps((60, "good"), (80, "bad"), (85, "bad"))) == (
        "fails",
        "a step at 85/s <= peak 90/s broke the SLOs",
    )
    assert n_plus_1(90, _steps((60, "good"), (100, "bad"), (95, "generator"))) == (
        "unknown",
        "no step decided whether 90/s is carried",
    )


def test_headroom_side_by_side() -> None:
    room = headroom(150.0, 100.0, 80.0, _steps((100, "good"), (110, "bad")))
    assert room.retained == pytest.approx(100 / 150)
    assert room.headroom == pytest.approx(100 / 80 - 1)  # 25 % above the peak
    assert (room.n_plus_1, room.evidence) == ("holds", "a step at 100/s >= peak 80/s met the SLOs")
    bare = headroom(None, 100.0, None, [])
    assert (bare.retained, bare.headroom, bare.n_plus_1, bare.evidence) == (None, None, None, "")


# --------------------------------------------------------------------------- document
def _record(rate: float, verdict: str, phase: str = "ramp", cpu: float = 30.0) -> StepRecord:
    return step(rate, verdict, phase=phase, cpu=cpu)


def _search(condition: str, capacity: float | None, steps: list[StepRecord]) -> SearchRecord:
    result = SearchResult(
        stop="converged",
        capacity=capacity,
        first_bad=None,
        generator_rate=None,
        steps=tuple(
            SearchStep(rate=s.rate, verdict=s.verdict.verdict, phase=s.phase) for s in steps
        ),
    )
    return search_record(condition, result, steps, goal_rps=100.0, cores=2, took_s=60.0)  # type: ignore[arg-type]


def test_a_search_record_carries_the_bend_and_the_generators_advice() -> None:
    steps = [_record(20, "good"), _record(40, "bad"), _record(60, "generator", cpu=95.0)]
    result = SearchResult(stop="generator", capacity=20, first_bad=40, generator_rate=60, steps=())
    record = search_record("healthy", result, steps, goal_rps=300.0, cores=2, took_s=36.0)
    assert record.bend is not None and record.bend.rate == 40  # 900 ms >= 2 x 10 ms
    assert record.lower_bound_only  # stopped by the generator
    advice = record.generator_advice
    # 60/s sent at 95 %: 60 x 75 / 95 = 47.37/s per worker; 300 / 47.37 = 6.33 -> 7 workers
    assert advice is not None and (advice.workers, advice.local, advice.remote) == (7, 2, 5)
    peak_step = _record(90, "good", phase="peak")
    assert _search("degraded", 90, [peak_step]).search_steps() == [
        SearchStep(rate=90, verdict="good", phase="peak")
    ]


def _config(label: str, healthy: float | None, degraded: float | None) -> Configuration:
    h = _search("healthy", healthy, [_record(healthy or 10, "good" if healthy else "bad")])
    d = None
    if degraded is not None:
        d = _search(
            "degraded", degraded, [_record(degraded, "good"), _record(degraded * 1.1, "bad")]
        )
    return Configuration(
        variant="default",
        replicas=int(label),
        label=f"{label} replicas",
        healthy=h,
        degraded=d,
        headroom=configuration_headroom(h, d, 80.0),
    )


def test_checks_per_configuration_and_the_verdict() -> None:
    configs = [_config("3", 150.0, 100.0), _config("2", 100.0, 50.0), _config("1", None, None)]
    checks = capacity_checks(configs, min_capacity=100.0, n_plus_1=True, peak=80.0)
    assert [(c.name, c.measured, c.passed, c.detail) for c in checks] == [
        ("capacity 3 replicas >= 100/s", 150.0, True, ""),
        (
            "N+1 3 replicas: carries 80/s with the faults held",
            100.0,
            True,
            "a step at 100/s >= peak 80/s met the SLOs",
        ),
        ("capacity 2 replicas >= 100/s", 100.0, True, ""),  # inclusive
        (
            "N+1 2 replicas: carries 80/s with the faults held",
            50.0,
            False,
            "a step at 55/s <= peak 80/s broke the SLOs",
        ),
        ("capacity 1 replicas >= 100/s", None, False, "no rate met the SLOs"),
        (
            "N+1 1 replicas: carries 80/s with the faults held",
            None,
            False,
            "the degraded search did not run",
        ),
    ]
    assert experiment_verdict("completed", [], configs, checks) == (
        "fail",
        (
            "N+1 2 replicas: carries 80/s with the faults held",
            "capacity 1 replicas >= 100/s",
            "N+1 1 replicas: carries 80/s with the faults held",
        ),
    )
    assert experiment_verdict("completed", [], configs, checks[:1]) == ("pass", ())
    assert experiment_verdict("completed", [], configs, []) == (
        "unchecked",
        ("the scenario sets neither checks.min_capacity nor n_plus_1",),
    )
    assert experiment_verdict("interrupted", [], configs, checks) == (
        "interrupted",
        ("interrupted by a signal",),
    )
    broken = [Configuration(variant="v", replicas=None, label="v", error="deploy failed")]
    assert experiment_verdict("completed", [], broken, []) == ("error", ("v: deploy failed",))
    assert experiment_verdict("error", [], [], []) == ("error", ("the experiment failed",))


def test_a_generator_bound_search_below_the_minimum_says_why() -> None:
    steps = [_record(20, "good"), _record(40, "generator", cpu=99.0)]
    result = SearchResult(
        stop="generator", capacity=20, first_bad=None, generator_rate=40, steps=()
    )
    record = search_record("healthy", result, steps, goal_rps=100.0, cores=2, took_s=24.0)
    config = Configuration(variant="default", replicas=None, label="default", healthy=record)
    (check,) = capacity_checks([config], min_capacity=30.0, n_plus_1=False, peak=None)
    assert (check.passed, check.measured) == (False, 20)
    assert check.detail == (
        "the generator was the limit at 40/s: the stack was not measured beyond that"
    )
    # generator-bound exactly at the minimum: it passes, and nothing needs saying
    (met,) = capacity_checks([config], min_capacity=20.0, n_plus_1=True, peak=None)
    assert (met.passed, met.detail) == (True, "")  # n_plus_1 without a peak adds no check


def test_scaling_tables_per_variant() -> None:
    configs = [
        Configuration(
            variant="plain",
            replicas=1,
            label="a",
            healthy=_search("healthy", 50.0, [_record(50, "good")]),
        ),
        Configuration(
            variant="plain",
            replicas=2,
            label="b",
            healthy=_search("healthy", 90.0, [_record(90, "good")]),
        ),
        Configuration(
            variant="cache",
            replicas=1,
            label="c",
            healthy=_search("healthy", 120.0, [_record(120, "good")]),
        ),
        Configuration(variant="cache", replicas=2, label="d", error="deploy failed"),
    ]
    tables = scaling_tables(configs)
    assert [t.variant for t in tables] == ["plain", "cache"]
    assert [(r.replicas, r.efficiency) for r in tables[0].rows] == [(1, 1.0), (2, 0.9)]
    assert [(r.replicas, r.capacity) for r in tables[1].rows] == [(1, 120.0)]
    assert scaling_tables([Configuration(variant="x", replicas=None, label="x")]) == ()


def test_the_document_round_trips_and_refuses_foreign_files(tmp_path: Path) -> None:
    doc = CapacityDocument(
        scenario="s",
        run_id="r",
        started_wall=1.0,
        slo=SLO,
        limits=SearchLimits(start=10, max_rps=100),
        workers=2,
        host=HostNoise(cores=2, load_before=1.5, load_after=None),
        configurations=(_config("3", 150.0, 100.0),),
    )
    path = tmp_path / "capacity.json"
    path.write_text(doc.to_json())
    assert path.read_text().startswith('{\n  "schema": "hachaos.capacity",\n  "version": 1,')
    assert CapacityDocument.read(path) == doc
    path.write_text('{"schema": "hachaos.summary"}')
    with pytest.raises(ScenarioError, match=r"is not a capacity\.json this hachaos can read"):
        CapacityDocument.read(path)
    with pytest.raises(ScenarioError, match=r"(?i)no such file"):
        CapacityDocument.read(tmp_path / "missing.json")
