"""The capacity experiment's driver with small fakes for the engine, the faults and Locust.

The fake load writes the samples a stack with a planted limit would give (every
arrival of the schedule, refused with 429 above the limit's share), on virtual
time, so the search's steps, the held faults, the teardown on every exit path
and the documents written are checked exactly, however loaded the machine is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.analysis.steady import Answer
from harness.clock import FakeClock
from harness.errors import EngineError, Interrupted
from harness.faults.catalog import Scenario
from harness.load.chunks import SCHEMA
from harness.load.driver import LoadResult
from harness.run.context import Collaborators
from harness.run.experiment import ExperimentOptions, ExperimentRunner, configurations
from harness.scenario.compose import parse_compose_config

CALLS: list[str] = []
CLOCK = FakeClock()


class Stack:
    """What the fake load measures: answers ok up to ``limit``/s per app replica (x2 with
    the cache variant, /2 while a fault is held), 429 for the rest of the arrivals."""

    limit = 100.0
    replicas = 3
    scale = 3
    cache = False
    degraded = False
    cpu: Callable[[float], float] = staticmethod(lambda rate: 20.0)
    running: int | None = None  # replicas the engine really runs (None: as asked)

    @classmethod
    def capacity(cls) -> float:
        per = cls.limit / cls.replicas * cls.scale * (2 if cls.cache else 1)
        return per / 2 if cls.degraded else per


class FakeEngine:
    kind = "compose"

    def __init__(self, project: str, scale: int = 3, cache: bool = False) -> None:
        self.project, self.scale, self.cache = project, scale, cache

    def with_env(self, **env: str) -> FakeEngine:
        return self

    def with_overrides(self, files: Any) -> FakeEngine:
        CALLS.append(f"overrides {[Path(f).name for f in files]}")
        return FakeEngine(self.project, self.scale, cache=True)

    def with_replicas(self, service: str, count: int) -> FakeEngine:
        CALLS.append(f"replicas {service}={count}")
        return FakeEngine(self.project, count, self.cache)

    def existing(self) -> str | None:
        return None

    def deploy(self, *, ready_timeout: float) -> None:
        CALLS.append(f"deploy x{self.scale}{' cache' if self.cache else ''}")
        if Stack.fail_deploy_at == self.scale:  # type: ignore[attr-defined]
            raise EngineError("app never became healthy")
        Stack.scale, Stack.cache = self.scale, self.cache

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", 18080)

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Any]:
        return list(range(Stack.running if Stack.running is not None else self.scale))

    def teardown(self) -> None:
        CALLS.append("teardown")

    def sweep(self) -> str:
        return ""

    def environment(self) -> dict[str, Any]:
        return {}

    def journal_record(self) -> dict[str, Any]:
        return {}

    def observe(self, emit: Any) -> None:
        pass

    def stop_observing(self) -> None:
        pass

    def finish(self) -> list[str]:
        return []


class FakeJournal:
    def stack(self, **fields: Any) -> None:
        pass


class FakeFaults:
    def __init__(self, **_: Any) -> None:
        self.journal = FakeJournal()
        self.active: list[str] = []

    def heal_leftovers(self) -> list[str]:
        return []

    def preflight(self, steps: Any) -> None:
        pass

    def apply(self, step: Any, *, planned_wall: float) -> None:
        CALLS.append(f"apply {step.key} {step.replicas}")
        self.active.append(step.key)
        Stack.degraded = True

    def revert_all(self) -> list[Any]:
        if self.active:
            CALLS.append(f"revert_all {self.active}")
        self.active.clear()
        Stack.degraded = False
        return []


class FakeLoad:
    """A pre-spawned load on virtual time that writes a planted stack's samples."""

    interrupt_at_step: int | None = None

    def __init__(self, plan: Any) -> None:
        self.plan = plan
        self.rps = 0.0
        self.t0: float | None = None
        self.result: LoadResult | None = None
        self.released = False

    def prespawn(self) -> None:
        CALLS.append(f"prespawn {self.plan.out_dir.name}")

    def start(self, target_url: str | None = None, *, rps: float | None = None) -> None:
        assert target_url == "http://127.0.0.1:18080"
        self.released, self.rps = True, float(rps or 0)
        if FakeLoad.interrupt_at_step == int(self.plan.out_dir.name):
            raise Interrupted(signum=2)
        self.t0 = CLOCK.wall() + 0.5

    @property
    def schedule_t0(self) -> float | None:
        return self.t0

    def stopped_child(self) -> str | None:
        return None

    def stop(self, timeout: float = 30.0, *, reap_master: bool = True) -> LoadResult:
        if self.result is None:
            self.result = self._write()
        return self.result

    def _write(self) -> LoadResult:
        out = self.plan.out_dir
        out.mkdir(parents=True, exist_ok=True)
        n = 0 if self.t0 is None else math.floor(self.rps * self.plan.total_seconds + 0.5)
        t0 = self.t0 or 0.0
        intended = [round((t0 + (k + 0.5) / self.rps) * 1e6) for k in range(n)]
        allowed = min(Stack.capacity() / self.rps, 1.0) if n else 1.0
        # refuse evenly: arrival k is ok while floor((k+1) x allowed) grows
        ok = [math.floor((k + 1) * allowed) > math.floor(k * allowed) for k in range(n)]
        rows = {
            "intended_us": intended,
            "start_us": intended,
            "latency_ms": [10.0] * n,
            "status": [200 if o else 429 for o in ok],
            "outcome": ["ok" if o else "http_4xx" for o in ok],
            "bytes": [10] * n,
            "name": ["GET /"] * n,
            "worker": ["w0"] * n,
            "item": [""] * n,
        }
        path = out / "samples.parquet"
        pq.write_table(pa.Table.from_pydict(rows, schema=SCHEMA), path)
        cpu = Stack.cpu(self.rps)
        return LoadResult(path, n, 0, 0, cpu > 90, cpu, self.plan.workers)

    def close(self) -> None:
        CALLS.append(f"close {self.plan.out_dir.name}")

    def abandon(self) -> None:
        CALLS.append(f"abandon {self.plan.out_dir.name}")


class FakeTarget:
    """What a GET of the stack answers between steps: 503 for the first ``down`` GETs."""

    down = 0
    asked: ClassVar[list[tuple[str, float]]] = []

    @classmethod
    def get(cls, url: str, timeout: float) -> Answer:
        cls.asked.append((url, timeout))
        return Answer(503 if len(cls.asked) <= cls.down else 200, b"", 1.0)


FAKES = Collaborators(
    engine_for=lambda sc, project, run_id: FakeEngine(project),
    fault_runner=FakeFaults,
    load_driver=FakeLoad,
    wait_ready=lambda *a, **k: 0.0,
    environment=lambda *a, **k: {},
    audit=lambda *a, **k: {},
    http_get=FakeTarget.get,
)

COMPOSE = parse_compose_config(
    Path("compose.yaml"),
    {
        "services": {
            "lb": {"ports": [{"target": 8080}]},
            "app": {"deploy": {"replicas": 3}},
            "redis": {},
        }
    },
)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    global CLOCK  # noqa: PLW0603 - fresh virtual time per test, like CALLS
    CALLS.clear()
    CLOCK = FakeClock()
    monkeypatch.setattr(Stack, "scale", 3)
    monkeypatch.setattr(Stack, "cache", False)
    monkeypatch.setattr(Stack, "degraded", False)
    monkeypatch.setattr(Stack, "fail_deploy_at", None, raising=False)
    monkeypatch.setattr(Stack, "cpu", staticmethod(lambda rate: 20.0))
    monkeypatch.setattr(Stack, "running", None)
    monkeypatch.setattr(FakeLoad, "interrupt_at_step", None)
    monkeypatch.setattr(FakeTarget, "down", 0)
    monkeypatch.setattr(FakeTarget, "asked", [])


def _scenario(tmp_path: Path, **extra: Any) -> Scenario:
    source = tmp_path / "capacity.yaml"
    source.write_text("# a capacity scenario\n")
    data: dict[str, Any] = {
        "version": 1,
        "name": "cap",
        "stack": {"compose": "compose.yaml", "target": {"service": "lb", "port": 8080}},
        "load": {"processes": 1, "timeout": "1s"},
        "checks": {"availability": {"overall": "99%"}, "min_capacity": 95},
        "experiment": {
            "capacity": {"start": 40, "step": 40, "max_rps": 400, "settle": "2s", "hold": "4s"}
        },
        "report": {"dir": str(tmp_path / "reports")},
    }
    for key, value in extra.items():
        data[key] = value
    return Scenario.model_validate(data).model_copy(update={"source": source})


def _run(sc: Scenario) -> Any:
    runner = ExperimentRunner(sc, COMPOSE, ExperimentOptions(), clock=CLOCK, use=FAKES)
    return runner.run()


def test_a_planted_limit_is_found_to_the_resolution(tmp_path: Path) -> None:
    outcome = _run(_scenario(tmp_path))
    doc = outcome.document
    (config,) = doc.configurations
    search = config.healthy
    assert search is not None
    # 40 80 120(bad: 100 of 120 ok = 83 %) | 100 good, 110 bad, 105 bad (95.2 % < 99 %):
    # 105 - 100 = 5 <= 5 % of 105: converged
    assert [(s.rate, s.verdict.verdict) for s in search.steps] == [
        (40, "good"),
        (80, "good"),
        (120, "bad"),
        (100, "good"),
        (110, "bad"),
        (105, "bad"),
    ]
    assert (search.stop, search.capacity, search.first_bad) == ("converged", 100, 105)
    assert [s.measure.arrivals for s in search.steps] == [160, 320, 480, 400, 440, 420]
    assert (doc.verdict, doc.outcome) == ("pass", "completed")
    assert [c.name for c in doc.checks] == ["capacity default >= 95/s"]
    # one load per step, each spawned while the step before drained; the spare one is ended
    assert [c for c in CALLS if c.startswith(("prespawn", "abandon"))] == [
        *(f"prespawn {i:02d}" for i in range(1, 8)),
        "abandon 07",
    ]
    assert CALLS[0] == "deploy x3" and CALLS[-1] == "teardown"
    # every step: 2 s settle + 4 s hold + 1 s drain after a 0.5 s start
    assert all(s.took_s == pytest.approx(7.5) for s in search.steps)
    assert search.steps[0].samples == "default/healthy/01/samples.parquet"
    folder = outcome.folder
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "capacity.html",
        "capacity.json",
        "capacity.md",
        "junit.xml",
        "scenario.json",
        "scenario.yaml",
    ]
    deployment = json.loads((folder / "default" / "deployment.json").read_text())
    assert deployment["project"].startswith("hachaos-cap-")
    assert deployment["target_url"] == "http://127.0.0.1:18080"
    assert not (folder / "default" / "run.json").exists()  # not a run folder
    saved = json.loads((folder / "capacity.json").read_text())
    assert saved["verdict"] == "pass"
    assert saved["configurations"][0]["healthy"]["capacity"] == 100


def _gaps(search: Any) -> list[float]:
    """Idle time between one step's end and the next one's start."""
    return [
        round(b.started_wall - (a.started_wall + a.took_s), 6)
        for a, b in zip(search.steps, search.steps[1:], strict=False)
    ]


def test_after_each_bad_step_no_load_until_the_stack_serves_again(tmp_path: Path) -> None:
    """recover 5 s, then a GET every 0.5 s until 3 in a row are served. The first 4 GETs
    fail: after step 3, GETs at 5.0 5.5 6.0 6.5 fail, 7.0 7.5 8.0 pass: 8 s; after
    step 5 the first three pass: 5 + 2 x 0.5 = 6 s. Never after the last step."""
    capacity = {"start": 40, "step": 40, "max_rps": 400, "settle": "2s", "hold": "4s"}
    FakeTarget.down = 4
    sc = _scenario(
        tmp_path,
        experiment={"capacity": {**capacity, "recover": "5s"}},
        checks={
            "availability": {"overall": "99%"},
            "latency": [{"percentile": 99, "max": "250ms"}],
        },
    )
    runner = ExperimentRunner(sc, COMPOSE, ExperimentOptions(), clock=CLOCK, use=FAKES)
    lines: list[str] = []
    runner.on_line = lines.append
    search = runner.run().document.configurations[0].healthy
    assert search is not None
    verdicts = [s.verdict.verdict for s in search.steps]
    assert verdicts == ["good", "good", "bad", "good", "bad", "bad"]  # the same search
    assert _gaps(search) == [0, 0, 8, 0, 6]
    steps = [line for line in lines if ": step " in line]
    assert [line.endswith("; after 8.0 s without load") for line in steps] == [
        False, False, False, True, False, False
    ]  # fmt: skip
    assert [s.rested_s for s in search.steps] == [0, 0, 0, 8, 0, 6]
    assert (search.stop, search.unrecovered_s) == ("converged", None)
    # the target's root, with the loosest latency bound as the GET's time limit
    assert set(FakeTarget.asked) == {("http://127.0.0.1:18080", 0.25)}
    assert len(FakeTarget.asked) == 7 + 3


def test_without_a_latency_bound_the_get_has_the_load_timeout(tmp_path: Path) -> None:
    FakeTarget.down = 0
    search = _run(_scenario(tmp_path)).document.configurations[0].healthy
    assert search is not None
    assert _gaps(search) == [0, 0, 1, 0, 1]  # no rest, three GETs 0.5 s apart
    assert set(FakeTarget.asked) == {("http://127.0.0.1:18080", 1.0)}


def test_no_rest_and_no_probe_when_both_are_off(tmp_path: Path) -> None:
    capacity = {"start": 40, "step": 40, "max_rps": 400, "settle": "2s", "hold": "4s"}
    sc = _scenario(tmp_path, experiment={"capacity": {**capacity, "recover_max": "0s"}})
    search = _run(sc).document.configurations[0].healthy
    assert search is not None
    assert _gaps(search) == [0, 0, 0, 0, 0] and FakeTarget.asked == []


def test_a_stack_that_never_serves_again_ends_the_search_as_metastable(tmp_path: Path) -> None:
    """After the bad step at 120/s every GET fails: 5 s of rest, then 30 s of probes; the
    search stops there (no step would measure the capacity), the capacity it had stands."""
    capacity = {"start": 40, "step": 40, "max_rps": 400, "settle": "2s", "hold": "4s"}
    FakeTarget.down = 10_000
    sc = _scenario(
        tmp_path, experiment={"capacity": {**capacity, "recover": "5s", "recover_max": "30s"}}
    )
    outcome = _run(sc)
    search = outcome.document.configurations[0].healthy
    assert search is not None
    assert [(s.rate, s.verdict.verdict) for s in search.steps] == [
        (40, "good"),
        (80, "good"),
        (120, "bad"),
    ]
    assert (search.stop, search.capacity, search.first_bad) == ("unrecovered", 80, 120)
    assert search.unrecovered_s == 35.0
    assert len(FakeTarget.asked) == 61  # 0, 0.5 ... 30 s after the rest
    assert outcome.document.verdict == "fail"  # min_capacity 95/s
    assert CALLS[-1] == "teardown"
    assert [c for c in CALLS if c.startswith("abandon")] == ["abandon 04"]  # the spare load


def test_held_faults_a_peak_step_and_the_n_plus_1_verdict(tmp_path: Path) -> None:
    sc = _scenario(
        tmp_path,
        faults=[{"type": "stop", "target": {"service": "app", "index": 1}, "at": 0, "for": "1h"}],
        checks={"availability": {"overall": "99%"}, "n_plus_1": True},
        experiment={
            "capacity": {
                "start": 20,
                "step": 20,
                "max_rps": 200,
                "settle": "2s",
                "hold": "4s",
                "resolution": "20%",
                "peak": 45,
            }
        },
    )
    doc = _run(sc).document
    (config,) = doc.configurations
    assert config.healthy is not None and config.degraded is not None
    assert config.healthy.capacity == 100  # 20..100 good, 120 bad: 20 <= 20 % of 120
    degraded = config.degraded
    # held: capacity 50 -> 20 40 good, 60 bad, 50 good: 60 - 50 = 10 <= 12: converged;
    # 50 >= 45 decides N+1 (holds) without a peak step
    assert [(s.rate, s.verdict.verdict) for s in degraded.steps] == [
        (20, "good"),
        (40, "good"),
        (60, "bad"),
        (50, "good"),
    ]
    assert degraded.faults == ("stop-1#0",)
    room = config.headroom
    assert room is not None
    assert (room.healthy, room.degraded, room.n_plus_1) == (100, 50, "holds")
    assert room.retained == 0.5 and room.headroom == pytest.approx(50 / 45 - 1)
    applied = CALLS.index("apply stop-1#0 (1,)")
    reverted = CALLS.index("revert_all ['stop-1#0']")
    assert applied < reverted < CALLS.index("teardown")
    assert doc.verdict == "pass"
    # a peak the held search did not decide gets one step at exactly the peak
    sc2 = sc.model_copy(
        update={
            "experiment": sc.experiment.model_copy(  # type: ignore[union-attr]
                update={
                    "capacity": sc.experiment.capacity.model_copy(update={"peak": 55})  # type: ignore[union-attr]
                }
            )
        }
    )
    doc2 = _run(sc2).document
    last = doc2.configurations[0].degraded.steps[-1]  # type: ignore[union-attr]
    assert (last.rate, last.phase, last.verdict.verdict) == (55, "peak", "bad")
    assert doc2.configurations[0].headroom.n_plus_1 == "fails"  # type: ignore[union-attr]
    assert doc2.verdict == "fail"


def test_variants_and_replica_counts_each_deploy_once(tmp_path: Path) -> None:
    sc = _scenario(
        tmp_path,
        stack={
            "compose": "compose.yaml",
            "target": {"service": "lb", "port": 8080},
            "variants": [{"name": "plain"}, {"name": "cache", "overrides": ["cache.yaml"]}],
        },
        experiment={
            "capacity": {
                "start": 20,
                "step": 20,
                "max_rps": 400,
                "settle": "1s",
                "hold": "2s",
                "resolution": "10%",
            },
            "scaling": {"service": "app", "replicas": [2, 1]},
        },
        checks={},
    )
    assert [c.label for c in configurations(sc, sc.experiment)] == [  # type: ignore[arg-type]
        "plain @ 1 replicas",
        "plain @ 2 replicas",
        "cache @ 1 replicas",
        "cache @ 2 replicas",
    ]
    doc = _run(sc).document
    deploys = [c for c in CALLS if c.startswith(("deploy", "teardown", "overrides", "replicas"))]
    assert deploys == [
        "replicas app=1",
        "deploy x1",
        "teardown",
        "replicas app=2",
        "deploy x2",
        "teardown",
        "overrides ['cache.yaml']",
        "replicas app=1",
        "deploy x1 cache",
        "teardown",
        "overrides ['cache.yaml']",
        "replicas app=2",
        "deploy x2 cache",
        "teardown",
    ]
    capacities = [(c.label, c.healthy.capacity) for c in doc.configurations]  # type: ignore[union-attr]
    # planted: 33.3/s per replica, twice that with the cache; found to within 10 %:
    # x1: 20 good, 40 bad | 30 good, 35 bad, 32.5 good (35 - 32.5 <= 3.5);
    # 66.7: 60 good, 80 bad | 70 bad, 65 good; 133.3: 120 good, 140 bad | 130 good
    assert capacities == [
        ("plain @ 1 replicas", 32.5),
        ("plain @ 2 replicas", 65),
        ("cache @ 1 replicas", 65),
        ("cache @ 2 replicas", 130),
    ]
    assert [t.variant for t in doc.scaling] == ["plain", "cache"]
    assert [r.efficiency for r in doc.scaling[0].rows] == [1.0, 1.0]
    assert doc.verdict == "unchecked"


def test_a_failed_deploy_is_recorded_and_the_next_configuration_runs(tmp_path: Path) -> None:
    Stack.fail_deploy_at = 1  # type: ignore[attr-defined]
    sc = _scenario(
        tmp_path,
        experiment={
            "capacity": {"start": 50, "max_rps": 100, "settle": "1s", "hold": "2s"},
            "scaling": {"service": "app", "replicas": [1, 3]},
        },
    )
    doc = _run(sc).document
    first, second = doc.configurations
    assert first.error == "app never became healthy"
    assert first.healthy is None
    assert second.healthy is not None and second.healthy.capacity == 100
    assert CALLS.count("teardown") == 2  # the failed deploy is torn down too
    assert doc.verdict == "error"
    assert doc.verdict_reasons == ("default @ 1 replicas: app never became healthy",)


def test_an_interrupted_experiment_tears_down_and_keeps_what_it_measured(tmp_path: Path) -> None:
    FakeLoad.interrupt_at_step = 3
    sc = _scenario(
        tmp_path,
        faults=[{"type": "stop", "target": {"service": "app", "index": 1}, "at": 0, "for": "1h"}],
    )
    outcome = _run(sc)
    doc = outcome.document
    assert (doc.outcome, doc.verdict, outcome.signal) == ("interrupted", "interrupted", 2)
    (config,) = doc.configurations
    assert config.healthy is not None
    assert [s.rate for s in config.healthy.steps] == [40, 80]
    assert config.healthy.stop == "running"
    # step 3's load (spawned during step 2) was starting: it is stopped and reaped, no
    # fault was held yet, the stack is removed
    assert CALLS[-4:] == ["prespawn 03", "close 02", "close 03", "teardown"]
    assert not any(c.startswith(("apply", "abandon")) for c in CALLS)
    saved = json.loads((outcome.folder / "capacity.json").read_text())
    assert saved["outcome"] == "interrupted"


def test_a_saturated_generator_ends_the_search_with_advice(tmp_path: Path) -> None:
    Stack.cpu = staticmethod(lambda rate: 99.0 if rate >= 120 else rate / 2)
    doc = _run(_scenario(tmp_path)).document
    search = doc.configurations[0].healthy
    assert search is not None
    assert [(s.rate, s.verdict.verdict) for s in search.steps] == [
        (40, "good"),
        (80, "good"),
        (120, "generator"),
    ]
    assert (search.stop, search.capacity, search.generator_rate) == ("generator", 80, 120)
    advice = search.generator_advice
    # 1 worker sent 120/s at 99 %: 120 x 75 / 99 = 90.9/s; 400 / 90.9 = 4.4 -> 5 workers
    assert advice is not None and advice.workers == 5
    (check,) = doc.checks
    assert not check.passed
    assert check.detail.startswith("the generator was the limit at 120/s")


def test_a_replica_count_the_engine_did_not_apply_is_an_error(tmp_path: Path) -> None:
    Stack.running = 3  # e.g. a container_name pins the service at its own count
    sc = _scenario(
        tmp_path,
        experiment={
            "capacity": {"start": 50, "max_rps": 100, "settle": "1s", "hold": "2s"},
            "scaling": {"service": "app", "replicas": [2]},
        },
    )
    doc = _run(sc).document
    (config,) = doc.configurations
    assert config.error is not None
    assert config.error.startswith("asked for 2 replicas of app, the engine runs 3")
    assert config.healthy is None
    assert CALLS[-1] == "teardown"
