"""FaultRunner bookkeeping with a small fake fault and fake target resolution.

Docker behaviour is tested in tests/integration/faults; this checks only the
runner's own logic: journaling order, newest-first reverts, failures reported.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from harness.engine.containers import Target
from harness.errors import FaultError, RevertError
from harness.evidence.events import EventLog, read_events
from harness.evidence.journal import read_journal
from harness.faults import registry
from harness.faults.base import Fault, InstantFault
from harness.faults.runner import FaultRunner
from harness.scenario.models import FaultBase, WindowedFault
from harness.scenario.plan import PlannedFault

LOG: list[str] = []


class FakeSpec(WindowedFault):
    type: Literal["fake"]


class FakeInstantSpec(FaultBase):
    instant = True

    type: Literal["fake-instant"]


class FakeFault(Fault[FakeSpec]):
    broken_revert: ClassVar[set[str]] = set()
    broken_verify: ClassVar[set[str]] = set()
    revert_failures_left: ClassVar[dict[str, int]] = {}  # key: how many reverts fail first
    # key: (set once the revert began, what it waits for), e.g. a slow task replacement
    held_reverts: ClassVar[dict[str, tuple[threading.Event, threading.Event]]] = {}

    def apply(self) -> None:
        LOG.append(f"apply {self.state['key']}")

    def verify(self) -> None:
        if self.state["key"] in self.broken_verify:
            raise FaultError("not in effect")

    def revert(self) -> None:
        key = self.state["key"]
        LOG.append(f"revert {key}")
        if key in self.held_reverts:
            began, release = self.held_reverts[key]
            began.set()
            release.wait(30)
        if key in self.broken_revert:
            raise FaultError("engine said no")
        if self.revert_failures_left.get(key, 0) > 0:
            self.revert_failures_left[key] -= 1
            raise FaultError("engine busy")


class FakeInstant(InstantFault[FakeInstantSpec]):
    @classmethod
    def extra_state(cls, step: Any, targets: Any, ctx: Any) -> dict[str, Any]:
        return {}

    def apply(self) -> None:
        LOG.append(f"apply {self.state['key']}")

    def verify(self) -> None:
        return None


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    registry.get("kill")  # load the real ones first, so ours are added, not alone
    registry.register(FakeFault)
    registry.register(FakeInstant)
    LOG.clear()
    FakeFault.broken_revert.clear()
    FakeFault.broken_verify.clear()
    FakeFault.revert_failures_left.clear()
    FakeFault.held_reverts.clear()
    yield
    registry._REGISTRY.pop("fake", None)
    registry._REGISTRY.pop("fake-instant", None)


_INDEX: dict[str, int] = {}  # one fault index per name, as in a validated scenario


def step(
    name: str, fault_type: str = "fake", end: float | None = 5.0, *, index: int | None = None
) -> PlannedFault:
    model = FakeInstantSpec if fault_type == "fake-instant" else FakeSpec
    window = {} if model.instant else {"for": 5}
    spec = model.model_validate(
        {"type": fault_type, "target": {"service": "web"}, "at": 0, **window}
    )
    if index is None:
        index = _INDEX.setdefault(name, len(_INDEX))
    return PlannedFault(index, 0, name, fault_type, spec, "web", (1,), 1.0, end)


class FakeContainers:
    """Target resolution, the only engine call the runner makes for fake faults."""

    def resolve(self, project: str, service: str, replicas: tuple[int, ...]) -> list[Target]:
        return [Target(f"id-{service}", f"{service}-1", service, 1)]


@pytest.fixture
def run(tmp_path: Path) -> Iterator[FaultRunner]:
    log = EventLog(tmp_path / "events.jsonl")
    engine: Any = FakeContainers()
    yield FaultRunner(project="p", run_id="r", run_dir=tmp_path, events=log, containers=engine)
    log.close()


def test_revert_all_is_newest_first_and_closes_the_journal(
    run: FaultRunner, tmp_path: Path
) -> None:
    for n in ("a", "b", "c"):
        run.apply(step(n), planned_wall=100.0)
    run.revert(step("b"))
    assert run.active() == ["a#0", "c#0"]
    assert run.revert_all() == []
    assert LOG[-3:] == ["revert b#0", "revert c#0", "revert a#0"]
    assert run.active() == []
    assert read_journal(tmp_path / "journal.jsonl").closed


def test_failed_revert_is_returned_and_stays_pending(run: FaultRunner, tmp_path: Path) -> None:
    FakeFault.broken_revert.add("a#0")
    run.apply(step("a"), planned_wall=100.0)
    run.apply(step("b"), planned_wall=100.0)
    failures = run.revert_all()
    assert len(failures) == 1 and isinstance(failures[0], RevertError)
    assert "a#0" in str(failures[0]) and "NOT reverted" in str(failures[0])
    assert "revert b#0" in LOG  # the other fault was still reverted
    jf = read_journal(tmp_path / "journal.jsonl")
    assert [p.key for p in jf.pending] == ["a#0"] and not jf.closed
    reverts = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "fault.revert"]
    assert [(e["key"], e["ok"]) for e in reverts] == [("b#0", True), ("a#0", False)]


def test_journal_intent_precedes_apply(run: FaultRunner, tmp_path: Path) -> None:
    run.apply(step("a"), planned_wall=100.0)
    ops = [line.split('"op":"')[1].split('"')[0] for line in
           (tmp_path / "journal.jsonl").read_text().splitlines()]  # fmt: skip
    assert ops == ["open", "intent", "applied"]


def test_unverified_apply_raises_and_is_undone(run: FaultRunner, tmp_path: Path) -> None:
    FakeFault.broken_verify.add("a#0")
    with pytest.raises(FaultError, match="not in effect"):
        run.apply(step("a"), planned_wall=100.0)
    assert LOG == ["apply a#0", "revert a#0"]
    assert run.active() == []
    assert read_journal(tmp_path / "journal.jsonl").pending == []
    applies = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "fault.apply"]
    assert applies[0]["ok"] is False and "not in effect" in applies[0]["error"]


def test_instant_fault_is_self_healing(run: FaultRunner, tmp_path: Path) -> None:
    run.apply(step("i", "fake-instant", end=None), planned_wall=100.0)
    assert run.active() == []
    assert read_journal(tmp_path / "journal.jsonl").pending == []
    ev = read_events(tmp_path / "events.jsonl")[-1]
    assert ev["self_healing"] is True and ev["ok"] is True


def test_timing_fields(run: FaultRunner, tmp_path: Path) -> None:
    run.apply(step("a"), planned_wall=100.0)
    run.revert(step("a"), planned_wall=105.0)
    apply_ev, revert_ev = (
        e for e in read_events(tmp_path / "events.jsonl") if e["kind"].startswith("fault.")
    )
    assert apply_ev["planned"] == 1.0 and apply_ev["planned_wall"] == 100.0
    assert revert_ev["planned"] == 5.0 and revert_ev["planned_wall"] == 105.0
    for e in (apply_ev, revert_ev):
        assert e["wall_start"] <= e["wall_end"] and e["mono_start"] <= e["mono_end"]
        # planned_mono sits as far before mono_start as planned_wall before wall_start
        assert e["mono_start"] - e["planned_mono"] == pytest.approx(
            e["wall_start"] - e["planned_wall"], abs=0.05
        )


def test_concurrent_revert_and_revert_all_revert_once(run: FaultRunner) -> None:
    for n in range(20):
        run.apply(step(f"f{n}"), planned_wall=100.0)
    threads = [threading.Thread(target=run.revert, args=(step(f"f{n}"),)) for n in range(20)]
    for t in threads:
        t.start()
    failures = run.revert_all()
    for t in threads:
        t.join()
    assert failures == []
    reverted = [line for line in LOG if line.startswith("revert")]
    assert sorted(reverted) == sorted(f"revert f{n}#0" for n in range(20))


def test_active_answers_while_a_revert_is_under_way(run: FaultRunner) -> None:
    """The scheduler's progress ticks, phase events and stop conditions ask ``active()``
    while a revert (a Swarm task replacement: up to a minute) holds the runner's lock."""
    run.apply(step("slow"), planned_wall=100.0)
    began, release = threading.Event(), threading.Event()
    FakeFault.held_reverts["slow#0"] = (began, release)
    reverter = threading.Thread(target=run.revert, args=(step("slow"),))
    reverter.start()
    try:
        assert began.wait(30)
        seen: list[list[str]] = []
        asker = threading.Thread(target=lambda: seen.append(run.active()))
        asker.start()
        asker.join(30)
        answered_during_the_revert = not asker.is_alive()
    finally:
        release.set()
        reverter.join(30)
    assert answered_during_the_revert
    assert seen == [["slow#0"]]  # still in effect until the revert is verified
    assert run.active() == []


def test_registry_knows_every_scenario_type() -> None:
    from harness.faults.catalog import FAULT_TYPES

    assert set(FAULT_TYPES) <= set(registry.types())
    with pytest.raises(Exception, match="unknown fault type"):
        registry.get("meteor")


def _ops(path: Path) -> list[str]:
    return [json.loads(line)["op"] for line in path.read_text().splitlines()]


def test_failed_revert_stays_active_is_retried_and_never_closes(
    run: FaultRunner, tmp_path: Path
) -> None:
    FakeFault.broken_revert.add("a#0")
    run.apply(step("a"), planned_wall=100.0)
    with pytest.raises(RevertError):
        run.revert(step("a"))  # the scheduled revert fails
    assert run.active() == ["a#0"]
    failures = run.revert_all()
    assert len(failures) == 1 and "a#0" in str(failures[0])
    assert LOG == ["apply a#0", "revert a#0", "revert a#0"]  # revert_all retried it
    for path in (tmp_path / "journal.jsonl", tmp_path / "state/hachaos/journal/r.jsonl"):
        assert "closed" not in _ops(path)
        jf = read_journal(path)
        assert [p.key for p in jf.pending] == ["a#0"] and not jf.closed


def test_revert_that_fails_once_is_retried_by_revert_all(run: FaultRunner, tmp_path: Path) -> None:
    FakeFault.revert_failures_left["a#0"] = 1
    run.apply(step("a"), planned_wall=100.0)
    with pytest.raises(RevertError):
        run.revert(step("a"))
    assert run.revert_all() == []
    assert run.active() == []
    jf = read_journal(tmp_path / "journal.jsonl")
    assert jf.closed and jf.pending == []
    assert _ops(tmp_path / "journal.jsonl")[-3:] == ["revert", "reverted", "closed"]


def test_failed_undo_of_a_failed_apply_stays_pending(run: FaultRunner, tmp_path: Path) -> None:
    FakeFault.broken_verify.add("a#0")
    FakeFault.broken_revert.add("a#0")
    with pytest.raises(FaultError, match="not in effect"):
        run.apply(step("a"), planned_wall=100.0)
    assert run.active() == ["a#0"]
    assert len(run.revert_all()) == 1
    assert LOG == ["apply a#0", "revert a#0", "revert a#0"]
    jf = read_journal(tmp_path / "journal.jsonl")
    assert [p.key for p in jf.pending] == ["a#0"] and not jf.closed


def test_two_faults_with_one_name_are_both_reverted(run: FaultRunner, tmp_path: Path) -> None:
    # Both report as blip#0; the runner keys them by (fault index, occurrence).
    run.apply(step("blip", index=0), planned_wall=100.0)
    run.apply(step("blip", index=1), planned_wall=100.0)
    assert run.active() == ["blip#0", "blip#0"]
    assert run.revert_all() == []
    assert LOG.count("revert blip#0") == 2
    jf = read_journal(tmp_path / "journal.jsonl")
    assert jf.closed and jf.pending == []


def test_the_same_occurrence_is_never_applied_twice(run: FaultRunner) -> None:
    run.apply(step("a"), planned_wall=100.0)
    with pytest.raises(FaultError, match="already applied"):
        run.apply(step("a"), planned_wall=100.0)
    assert LOG == ["apply a#0"]
    assert run.revert_all() == []


def test_cleanup_retries_a_revert_that_failed_during_the_run(
    run: FaultRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.evidence.journal import JournalFile
    from harness.faults import heal

    FakeFault.broken_revert.add("a#0")
    run.apply(step("a"), planned_wall=100.0)
    with pytest.raises(RevertError):
        run.revert(step("a"))  # the scheduled revert fails ...
    assert len(run.revert_all()) == 1  # ... and so does the retry at the end of the run
    FakeFault.broken_revert.clear()  # later, the engine works again
    monkeypatch.setattr(JournalFile, "alive", lambda self: False)  # the run has exited
    monkeypatch.setattr(heal.helpers, "list_helpers", lambda **_: [])
    result = heal.heal(run_id="r")
    assert result.failed == [] and len(result.done) == 1 and "a#0" in result.done[0]
    assert LOG == ["apply a#0", "revert a#0", "revert a#0", "revert a#0"]
    state = read_journal(tmp_path / "state/hachaos/journal/r.jsonl")
    assert state.closed and state.pending == []
