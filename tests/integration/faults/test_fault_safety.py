"""Safety on the real engine: blast radius, zero targets, vanishing targets,
the dead-man switch after kill -9, and cleanup of a dead run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import IMAGE, Stack, container, netns_rules, sdk, wait_until
from faultkit import events, planned, runner

from harness.engine import containers, helpers
from harness.errors import FaultError
from harness.evidence.journal import read_journal

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).parent / "child_run.py"


def _extra(project: str, service: str, *, extra_labels: dict[str, str] | None = None) -> str:
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": "1",
        **(extra_labels or {}),
    }
    c = sdk().containers.run(IMAGE, ["sleep", "300"], detach=True, labels=labels, init=True)
    return str(c.id)


@pytest.fixture
def outsiders(stack: Stack) -> Iterator[list[str]]:
    """Same service name and labels, but another project; and a helper-labelled look-alike."""
    ids = [
        _extra(f"{stack.project}-other", "web"),
        _extra(stack.project, "web", extra_labels={helpers.HELPER_LABEL: "1"}),
    ]
    yield ids
    for cid in ids:
        sdk().api.remove_container(cid, force=True)


def test_blast_radius_only_the_projects_containers(
    stack: Stack, tmp_path: Path, outsiders: list[str]
) -> None:
    resolved = {t.id for t in containers.resolve(stack.project, "web")}
    assert resolved == {container(stack.project, "web", n).id for n in (1, 2)}
    assert not resolved & set(outsiders)
    r = runner(stack.project, tmp_path)
    step = planned("kill", "web", ())  # every replica
    r.apply(step, planned_wall=0.0)
    assert all(sdk().containers.get(o).status == "running" for o in outsiders)
    r.revert(step)
    assert all(sdk().containers.get(o).status == "running" for o in outsiders)


@pytest.mark.parametrize(("service", "replicas"), [("web", (7,)), ("nope", (1,))])
def test_zero_targets_is_an_error(
    stack: Stack, tmp_path: Path, service: str, replicas: tuple[int, ...]
) -> None:
    r = runner(stack.project, tmp_path)
    with pytest.raises(FaultError, match="no container matched"):
        r.apply(planned("kill", service, replicas), planned_wall=0.0)
    assert events(tmp_path, "fault.apply")[0]["ok"] is False
    assert r.active() == []


def test_vanishing_target_is_logged_and_others_still_revert(stack: Stack, tmp_path: Path) -> None:
    victim = _extra(stack.project, "victim")
    r = runner(stack.project, tmp_path)
    pause = planned("pause", "victim", (1,), name="pause-victim")
    kill = planned("kill", "web", (1,), name="kill-web")
    r.apply(pause, planned_wall=0.0)
    r.apply(kill, planned_wall=0.0)
    sdk().api.remove_container(victim, force=True)  # someone else removes it mid-fault
    assert r.revert_all() == []
    assert container(stack.project, "web", 1).status == "running"
    gone = events(tmp_path, "fault.target_gone")
    assert [g["key"] for g in gone] == [pause.key]
    reverts = events(tmp_path, "fault.revert")
    assert [e["key"] for e in reverts] == [kill.key, pause.key]  # newest first
    assert all(e["ok"] for e in reverts)
    assert read_journal(tmp_path / "journal.jsonl").closed


def _start_child(
    stack: Stack, run_dir: Path, run_id: str, fault: str, number: int, window: float, *spec: str
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), stack.project, str(run_dir), run_id, fault, "web",
         str(number), str(window), "3", *spec],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "APPLIED", line
    return proc


def test_dead_man_switch_after_kill_9(stack: Stack, tmp_path: Path) -> None:
    web = container(stack.project, "web", 1)
    proc = _start_child(stack, tmp_path / "run", "deadman", "partition", 1, 2.0)
    killed = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert "HACHAOS-" in netns_rules(web.id)  # hachaos is dead, the fault is still there
    # The helper's own deadline is window (2 s) + margin (3 s) from its start.
    assert wait_until(lambda: "HACHAOS-" not in netns_rules(web.id), timeout=15)
    assert time.monotonic() - killed < 15
    assert wait_until(lambda: not helpers.list_helpers(run_id="deadman"), timeout=10)


def test_cleanup_reverts_a_dead_run(stack: Stack, tmp_path: Path, state_home: Path) -> None:
    proc = _start_child(stack, tmp_path / "run", "deadrun", "kill", 2, 60.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert container(stack.project, "web", 2).status == "exited"
    journal = state_home / "hachaos" / "journal" / "deadrun.jsonl"
    assert [p.type for p in read_journal(journal).pending] == ["kill"]
    out = subprocess.run(
        [str(Path(sys.executable).parent / "hachaos"), "cleanup", "--run", "deadrun"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "reverted kill-1#0" in out.stdout
    assert container(stack.project, "web", 2).status == "running"
    assert read_journal(journal).closed


def test_heal_leftovers_before_a_run(stack: Stack, tmp_path: Path) -> None:
    proc = _start_child(stack, tmp_path / "old", "oldrun", "pause", 1, 60.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert container(stack.project, "web", 1).status == "paused"
    healed = runner(stack.project, tmp_path / "new", run_id="newrun").heal_leftovers()
    assert any("pause-1#0" in h for h in healed)
    assert container(stack.project, "web", 1).status == "running"
