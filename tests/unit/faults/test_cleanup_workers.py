"""`hachaos cleanup` removes the load workers a dead run placed, before its stack, even a kept one.

The swarm platform's removal is faked (its real behaviour: tests/multinode/test_load_workers.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.engine.swarm import adapter as swarm_adapter
from harness.engine.swarm import objects as swarm_objects
from harness.engine.swarm import platform as swarm_platform
from harness.evidence.journal import Journal, append_to, read_journal, state_dir
from harness.faults import heal

CALLS: list[str] = []


@pytest.fixture(autouse=True)
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    CALLS.clear()
    monkeypatch.setattr(heal.helpers, "list_helpers", lambda **_: [])

    def remove_workers(stack: str, run_id: str) -> list[str]:
        CALLS.append(f"workers {stack} {run_id}")
        return [f"removed load worker service {stack}-hachaos-load"]

    def remove_stack(stack: str) -> swarm_objects.StackObjects:
        CALLS.append(f"stack {stack}")
        return swarm_objects.StackObjects(services=(f"{stack}_web",))

    monkeypatch.setattr(swarm_platform, "remove_left_workers", remove_workers)
    monkeypatch.setattr(swarm_adapter, "remove_stack_objects", remove_stack)
    monkeypatch.setattr(swarm_adapter, "leave_if_ours", lambda ops, run_id: None)
    # the dead run's swarm is still there (no swarm: its stack cannot be left)
    monkeypatch.setattr(swarm_adapter.DockerSwarmOps, "state", lambda self: "active")


def _dead(run_id: str, *, keep: bool, removed: bool = False) -> Path:
    path = state_dir() / f"{run_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"run_id": run_id, "project": f"s-{run_id}"}
    append_to(path, {**base, "op": "open", "pid": 0, "host": "gone", "pid_started": 0.0})
    append_to(path, {**base, "op": "stack", "engine": "swarm", "created": True, "keep": keep})
    append_to(path, {**base, "op": "workers", "engine": "swarm", "service": "x", "replicas": 3})
    if removed:
        append_to(path, {**base, "op": "workers", "removed": True})
    return path


def test_the_workers_go_first_then_the_stack() -> None:
    path = _dead("r1", keep=False)
    result = heal.heal()
    assert CALLS == ["workers s-r1 r1", "stack s-r1"]
    assert "run r1: removed load worker service s-r1-hachaos-load" in result.done
    assert read_journal(path).workers == {
        "engine": "swarm",
        "service": "x",
        "replicas": 3,
        "removed": True,
    }
    CALLS.clear()
    heal.heal()  # a second cleanup finds nothing left to do
    assert CALLS == []


def test_the_workers_of_a_kept_stack_are_removed_all_the_same() -> None:
    _dead("r2", keep=True)
    result = heal.heal()
    assert CALLS == ["workers s-r2 r2"]
    assert any("left up" in line for line in result.skipped)


def test_workers_already_removed_are_left_alone() -> None:
    _dead("r3", keep=False, removed=True)
    heal.heal()
    assert CALLS == ["stack s-r3"]


def test_the_journal_merges_the_workers_lines(tmp_path: Path) -> None:
    journal = Journal("r9", "s-r9", [tmp_path / "j.jsonl"])
    journal.workers(engine="swarm", service="s-r9-hachaos-load", replicas=2)
    assert read_journal(tmp_path / "j.jsonl").workers == {
        "engine": "swarm",
        "service": "s-r9-hachaos-load",
        "replicas": 2,
    }
    journal.workers(removed=True)
    assert (read_journal(tmp_path / "j.jsonl").workers or {}).get("removed") is True
