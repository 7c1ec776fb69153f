"""`hachaos cleanup` with fakes: no step can abort another, reverts are retried, reruns are safe.

The engine is faked here; its real behaviour (vanishing helpers, stack removal)
is tested in tests/integration/engine and tests/e2e.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.engine.compose import adapter as compose_adapter
from harness.engine.compose.project import ProjectObjects
from harness.errors import EngineError, RevertError
from harness.evidence.journal import append_to, read_journal, state_dir
from harness.faults import heal
from harness.faults.base import Fault

# Per fault key: how many revert attempts fail before one succeeds (-1: all fail),
# and what each failing attempt raises.
FAILS: dict[str, int] = {}
RAISES: dict[str, BaseException] = {}
REVERTS: list[str] = []
REMOVED: list[str] = []
UNRELEASABLE: set[str] = set()  # keys whose release fails (after a verified revert)


class FakeFault:
    def __init__(self, ctx: Any, state: dict[str, Any]) -> None:
        self.key = state["key"]

    def revert(self) -> None:
        REVERTS.append(self.key)
        left = FAILS.get(self.key, 0)
        if left != 0:
            FAILS[self.key] = left - 1 if left > 0 else -1
            raise RAISES.get(self.key, RevertError(f"{self.key} still applied"))

    def verify_reverted(self) -> None:
        return None

    def release(self) -> None:
        if self.key in UNRELEASABLE:
            raise EngineError(f"helper of {self.key} would not stop")

    def names(self) -> list[str]:
        return [f"{self.key}-target"]

    undo = Fault.undo  # the one revert sequence cleanup shares with the run


@pytest.fixture(autouse=True)
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Fake engine and faults; returns the list of backoff sleeps."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for registry in (FAILS, RAISES):
        registry.clear()
    UNRELEASABLE.clear()
    REVERTS.clear()
    REMOVED.clear()
    sleeps: list[float] = []
    monkeypatch.setattr(heal.registry, "get", lambda fault_type: FakeFault)
    monkeypatch.setattr(heal.helpers, "list_helpers", lambda **_: [])
    monkeypatch.setattr(heal.helpers, "remove_helper", lambda helper_id: None)

    def remove_stack(project: str, compose_file: Path | None) -> ProjectObjects:
        REMOVED.append(project)
        return ProjectObjects(containers=(f"{project}-app-1",))

    monkeypatch.setattr(compose_adapter, "remove_stack", remove_stack)
    return sleeps


def dead_run(run_id: str, *keys: str, stack: dict[str, Any] | None = None) -> Path:
    """A journal of a dead run (pid 0) with one applied fault per key."""
    path = state_dir() / f"{run_id}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"run_id": run_id, "project": f"p-{run_id}"}
    append_to(path, {**base, "op": "open", "pid": 0, "host": "gone", "pid_started": 0.0})
    if stack is not None:
        append_to(path, {**base, "op": "stack", **stack})
    for seq, key in enumerate(keys, start=1):
        intent = {"op": "intent", "seq": seq, "key": key, "type": "x", "state": {"key": key}}
        append_to(path, {**base, **intent})
        append_to(path, {**base, "op": "applied", "seq": seq})
    return path


CREATED = {"compose": "/gone/compose.yaml", "created": True, "keep": False}


def test_a_crashing_revert_does_not_stop_the_other_journals_helpers_or_stacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead_run("r1", "bad", stack=CREATED)
    dead_run("r2", "good", stack=CREATED)
    FAILS["bad"] = -1
    RAISES["bad"] = RuntimeError("bug in a fault module")  # not a HarnessError
    sleeps: list[float] = []
    removed_helpers: list[str] = []
    monkeypatch.setattr(
        heal.helpers,
        "list_helpers",
        lambda **_: [{"id": "h1", "name": "helper-1", "run": "r1", "project": "", "state": "x"}],
    )
    monkeypatch.setattr(heal.helpers, "remove_helper", removed_helpers.append)
    result = heal.heal(sleep=sleeps.append)
    assert result.failed == ["run r1: bad (x) not reverted: bug in a fault module"]
    assert "run r2: reverted good (x) on ['good-target']" in result.done
    assert removed_helpers == ["h1"]
    assert REMOVED == ["p-r1", "p-r2"]
    assert REVERTS == ["bad", "bad", "bad", "good"]  # three bounded attempts


def test_failing_helper_listing_and_removal_are_recorded_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead_run("r1", "k", stack=CREATED)

    def vanished(**_: Any) -> list[dict[str, str]]:
        raise EngineError("list helpers: No such container: 9a3c")

    monkeypatch.setattr(heal.helpers, "list_helpers", vanished)
    result = heal.heal()
    assert result.failed == [
        "listing helper containers failed: list helpers: No such container: 9a3c"
    ]
    assert REMOVED == ["p-r1"]
    assert read_journal(state_dir() / "r1.jsonl").closed


def test_one_failing_stack_removal_does_not_stop_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    dead_run("r1", stack=CREATED)
    dead_run("r2", stack=CREATED)

    def remove_stack(project: str, compose_file: Path | None) -> ProjectObjects:
        if project == "p-r1":
            raise OSError("engine socket reset")
        REMOVED.append(project)
        return ProjectObjects(volumes=("v",))

    monkeypatch.setattr(compose_adapter, "remove_stack", remove_stack)
    result = heal.heal()
    assert result.failed == ["run r1: stack p-r1 not removed: engine socket reset"]
    assert REMOVED == ["p-r2"]
    assert not read_journal(state_dir() / "r1.jsonl").stack.removed  # type: ignore[union-attr]
    assert read_journal(state_dir() / "r2.jsonl").stack.removed  # type: ignore[union-attr]


def test_an_unreadable_journal_is_a_failure_line_and_the_others_still_heal() -> None:
    dead_run("r2", "k")
    (state_dir() / "r1.jsonl").write_bytes(b"\xff\xfe not utf-8\n")
    result = heal.heal()
    assert len(result.failed) == 1 and result.failed[0].startswith("journal ")
    assert "r1.jsonl" in result.failed[0]
    assert REVERTS == ["k"]


def test_a_failed_revert_is_retried_with_bounded_backoff(fakes: list[float]) -> None:
    dead_run("r1", "flaky")
    FAILS["flaky"] = 2
    result = heal.heal(sleep=fakes.append)
    assert result.failed == []
    assert REVERTS == ["flaky", "flaky", "flaky"]
    assert fakes == [0.5, 1.0]
    assert read_journal(state_dir() / "r1.jsonl").closed


def test_a_revert_that_keeps_failing_stays_pending_for_the_next_cleanup(
    fakes: list[float],
) -> None:
    dead_run("r1", "stuck")
    FAILS["stuck"] = -1
    first = heal.heal(sleep=fakes.append)
    assert first.failed == ["run r1: stuck (x) not reverted: stuck still applied"]
    assert fakes == [0.5, 1.0]
    jf = read_journal(state_dir() / "r1.jsonl")
    assert not jf.closed and [p.key for p in jf.pending] == ["stuck"]
    FAILS["stuck"] = 0
    assert heal.heal().done == ["run r1: reverted stuck (x) on ['stuck-target']"]


def test_a_release_that_fails_after_the_revert_is_not_a_failed_revert(
    fakes: list[float],
) -> None:
    """The fault is verifiably gone: the journal says reverted (no retry, nothing pending);
    the release error is a line, and the helper sweep that follows removes what is left."""
    dead_run("r1", "held")
    UNRELEASABLE.add("held")
    result = heal.heal(sleep=fakes.append)
    assert result.failed == [] and fakes == [] and REVERTS == ["held"]
    assert result.done == [
        "run r1: reverted held (x) on ['held-target']",
        "run r1: held: its release failed (helper of held would not stop); "
        "the helper sweep follows",
    ]
    assert read_journal(state_dir() / "r1.jsonl").closed


def test_cleanup_twice_is_safe_and_the_second_does_nothing() -> None:
    dead_run("r1", "k", stack=CREATED)
    first = heal.heal()
    assert first.failed == [] and len(first.done) == 2
    second = heal.heal()
    assert (second.done, second.failed, second.skipped) == ([], [], [])
    assert REVERTS == ["k"] and REMOVED == ["p-r1"]


def test_kept_adopted_and_keep_stacks_runs_are_left_up() -> None:
    dead_run("kept", stack={**CREATED, "keep": True})
    dead_run("adopted", stack={**CREATED, "created": False})
    dead_run("never-deployed")
    result = heal.heal()
    assert REMOVED == []
    assert result.skipped == ["run kept: stack p-kept left up (the run was started with --keep)"]
    dead_run("r9", stack=CREATED)
    assert heal.heal(stacks=False).skipped[-1] == "run r9: stack p-r9 left up (--keep-stacks)"
    assert REMOVED == []


def test_cleanup_command_exits_3_when_any_step_failed() -> None:
    dead_run("r1", "stuck")
    dead_run("r2", "fine")
    FAILS["stuck"] = -1
    result = CliRunner().invoke(app, ["cleanup"])
    assert result.exit_code == 3, result.output
    assert "reverted fine" in result.output


def test_cleanup_command_keep_stacks_only_reverts() -> None:
    dead_run("r1", "k", stack=CREATED)
    result = CliRunner().invoke(app, ["cleanup", "--keep-stacks"])
    assert result.exit_code == 0, result.output
    assert REVERTS == ["k"] and REMOVED == []
    assert "stack p-r1 left up (--keep-stacks)" in result.output
    assert CliRunner().invoke(app, ["cleanup"]).exit_code == 0
    assert REMOVED == ["p-r1"]
