"""The Swarm reference scenarios, run for real on a single-node swarm (docs/engines.md).

Each test deploys compose/web-swarm as its own run-scoped stack. A look-alike
stack (another namespace, a service also called `app`) checks the blast radius;
a `kill -9` of a run checks that `hachaos cleanup` removes the stack it left.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import HACHAOS, ROOT, end_children, events, load_json, only_run_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LOOKALIKE = """\
services:
  app:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
"""


def _docker(*args: str, timeout: float = 60) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    ).stdout


def _swarm_state() -> str:
    return _docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()


def stack_leftovers(stack: str) -> list[str]:
    """Every service, container, network and volume labelled with the stack's namespace."""
    flt = f"label=com.docker.stack.namespace={stack}"
    found = []
    if _swarm_state() == "active":
        found += _docker("service", "ls", "-q", "--filter", flt).split()
    found += _docker("ps", "-aq", "--filter", flt).split()
    found += _docker("network", "ls", "-q", "--filter", flt).split()
    found += _docker("volume", "ls", "-q", "--filter", flt).split()
    return found


@pytest.fixture
def a_swarm() -> Iterator[None]:
    """An active swarm for the test; one this fixture creates (a fresh machine) it leaves after."""
    created = False
    if _swarm_state() == "inactive":
        _docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        created = True
    assert _swarm_state() == "active"
    yield
    if created:
        _docker("swarm", "leave", "--force")


@pytest.fixture
def stacks_after() -> Iterator[list[str]]:
    """Stacks registered here are removed after the test whatever happened."""
    stacks: list[str] = []
    yield stacks
    for stack in stacks:
        if _swarm_state() == "active":
            _docker("stack", "rm", stack, timeout=120)
        deadline = time.monotonic() + 60
        while _docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={stack}"):
            if time.monotonic() > deadline:
                break
            time.sleep(1)
        for vol in _docker(
            "volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}"
        ).split():
            _docker("volume", "rm", "-f", vol)


def _run(
    scenario: str, out: Path, stack: str, state: Path, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, "run", scenario, "--quiet", "--out", str(out), "--project", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )


def _tasks(stack: str, service: str) -> list[str]:
    """Ids of a service's running tasks."""
    return _docker(
        "service", "ps", f"{stack}_{service}", "-q", "--filter", "desired-state=running"
    ).split()


def test_swarm_kill_task_is_replaced_and_leaves_a_lookalike_alone(
    tmp_path: Path, a_swarm: None, stacks_after: list[str]
) -> None:
    lookalike = f"hachaos-e2e-look-{secrets.token_hex(3)}"
    stack = f"hachaos-e2e-swk-{secrets.token_hex(3)}"
    stacks_after += [lookalike, stack]
    (tmp_path / "look.yaml").write_text(LOOKALIKE)
    _docker(
        "stack", "deploy", "-c", str(tmp_path / "look.yaml"), "--resolve-image", "never", lookalike
    )
    deadline = time.monotonic() + 60
    while len(_tasks(lookalike, "app")) < 2:
        assert time.monotonic() < deadline, "the look-alike stack did not start"
        time.sleep(1)
    before = sorted(_tasks(lookalike, "app"))

    proc = _run("scenarios/swarm-kill-task.yaml", tmp_path / "out", stack, tmp_path / "state")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "pass"
    assert summary["metrics"]["overall"]["availability"] >= 0.99
    faults = [e for e in events(run_dir) if e["kind"].startswith("fault.")]
    assert [(e["kind"], e["ok"]) for e in faults] == [("fault.apply", True), ("fault.revert", True)]
    assert faults[0]["targets"][0].startswith(f"{stack}_app.2.")  # the task in slot 2
    (replaced,) = faults[1]["replaced"]
    assert replaced["slot"] == 2 and replaced["task"] != replaced["old_task"]
    assert replaced["running_wall"] > faults[0]["wall_start"]
    (row,) = summary["swarm"]
    assert row["replica_dip"] is True and row["time_to_desired_s"] > 0
    assert summary["run"]["project"] == stack
    assert stack_leftovers(stack) == []  # stack rm waited until the networks were gone
    assert sorted(_tasks(lookalike, "app")) == before  # the look-alike's tasks are untouched


def test_swarm_rolling_update_follows_update_config(
    tmp_path: Path, stacks_after: list[str]
) -> None:
    stack = f"hachaos-e2e-swu-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    proc = _run("scenarios/swarm-rolling-update.yaml", tmp_path / "out", stack, tmp_path / "state")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: an SLO missed on a busy host
    run_dir = only_run_dir(tmp_path / "out")
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] in ("pass", "fail") and summary["errors"] == []
    revert = [e for e in events(run_dir) if e["kind"] == "fault.revert"]
    assert [e["ok"] for e in revert] == [True]
    # every slot got a new task: the forced update replaced all three
    assert sorted(r["slot"] for r in revert[0]["replaced"]) == [1, 2, 3]
    # start-first, one at a time: the running count never fell below 3
    (row,) = summary["swarm"]
    assert row["replica_dip"] is False and row["time_to_desired_s"] == 0.0
    assert stack_leftovers(stack) == []


def _wait_for_services(stack: str, proc: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while (
        len(
            _docker(
                "service", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}"
            ).split()
        )
        < 3
    ):
        assert proc.poll() is None, "the run ended before its stack was deployed"
        assert time.monotonic() < deadline, "the stack never appeared"
        time.sleep(0.5)


def test_kill_9_then_cleanup_removes_the_swarm_stack(
    tmp_path: Path, stacks_after: list[str]
) -> None:
    stack = f"hachaos-e2e-sw9-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            *HACHAOS,
            "run",
            "scenarios/swarm-kill-task.yaml",
            "--quiet",
            "--out",
            str(tmp_path / "out"),
            "--project",
            stack,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )
    try:
        _wait_for_services(stack, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        end_children(tmp_path / "out")
    assert stack_leftovers(stack) != []
    (journal,) = (state / "hachaos" / "journal").glob("*.jsonl")
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    stack_line: dict[str, Any] = next(e for e in lines if e["op"] == "stack")
    assert stack_line["engine"] == "swarm" and stack_line["created"] is True
    cleaned = subprocess.run(
        [*HACHAOS, "cleanup", "--project", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert f"removed swarm stack {stack}" in cleaned.stdout
    assert stack_leftovers(stack) == []


def test_a_swarm_hachaos_creates_is_left_afterwards(
    tmp_path: Path, stacks_after: list[str]
) -> None:
    """On a fresh machine (no swarm): init, run, leave. Skipped where a swarm already runs
    that hachaos did not create (a shared engine must keep its swarm)."""
    if _swarm_state() != "inactive":
        pytest.skip("the engine is already in a swarm that this test must not leave")
    stack = f"hachaos-e2e-swi-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    proc = _run("scenarios/swarm-kill-task.yaml", tmp_path / "out", stack, tmp_path / "state")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    meta = load_json(only_run_dir(tmp_path / "out") / "run.json")
    assert meta["environment"]["swarm_created_by_run"] is True
    assert _swarm_state() == "inactive"  # left again: hachaos created it
