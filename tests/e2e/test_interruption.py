"""Ctrl-C, SIGTERM, SIGHUP and kill -9 of hachaos never leave a fault behind."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import HACHAOS, ROOT, events, load_json, only_run_dir, project_containers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCENARIO = "tests/e2e/scenarios/long-kill.yaml"


def _start(
    out: Path, project: str, env: dict[str, str] | None = None, *, own_group: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HACHAOS, "run", SCENARIO, "--quiet", "--out", str(out), "--project", project],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=own_group,  # a process group of its own, like a terminal job
    )


def _wait_for_apply(out: Path, proc: subprocess.Popen[str], timeout: float = 240) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        for log in out.glob("*/*/events.jsonl"):
            for line in log.read_text().splitlines():
                if '"fault.apply"' in line and json.loads(line).get("ok"):
                    return log.parent
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"the fault was not applied within {timeout} s")


def _state(container: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Status}}", container],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_signal_reverts_tears_down_and_reports(
    tmp_path: Path, down_after: list[str], sig: signal.Signals, code: int
) -> None:
    project = f"hachaos-e2e-sig-{secrets.token_hex(3)}"
    down_after.append(project)
    proc = _start(tmp_path, project)
    run_dir = _wait_for_apply(tmp_path, proc)
    assert _state(f"{project}-app-2") == "exited"
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == code, output
    reverts = [e for e in events(run_dir) if e["kind"] == "fault.revert"]
    assert [e["ok"] for e in reverts] == [True], output
    assert project_containers(project) == []
    meta = load_json(run_dir / "run.json")
    assert meta["outcome"] == "interrupted"
    assert meta["signal"] == sig.name
    assert load_json(run_dir / "summary.json")["verdict"] == "interrupted"
    assert (run_dir / "report.html").is_file()


def _compose_down_child(pid: int) -> bool:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "compose" in cmd and "down" in cmd:
            return True
    return False


def test_second_ctrl_c_does_not_abort_compose_down(tmp_path: Path, down_after: list[str]) -> None:
    # A terminal's Ctrl-C sends SIGINT to the whole foreground process group:
    # hachaos and every child that shares its group.
    project = f"hachaos-e2e-2int-{secrets.token_hex(3)}"
    down_after.append(project)
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    proc = _start(tmp_path / "out", project, env, own_group=True)
    run_dir = _wait_for_apply(tmp_path / "out", proc)
    os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + 120
    while not _compose_down_child(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, "no compose down seen"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # the impatient second Ctrl-C
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 130, output
    assert project_containers(project) == [], output
    meta = load_json(run_dir / "run.json")
    assert not [e for e in meta["errors"] if "teardown" in e], meta["errors"]
    assert [e["ok"] for e in events(run_dir) if e["kind"] == "fault.revert"] == [True]


def test_kill_9_then_cleanup_restores_the_stack(tmp_path: Path, down_after: list[str]) -> None:
    project = f"hachaos-e2e-k9-{secrets.token_hex(3)}"
    down_after.append(project)
    state_home = tmp_path / "state"
    env = {"XDG_STATE_HOME": str(state_home)}
    proc = _start(tmp_path / "out", project, env)
    _wait_for_apply(tmp_path / "out", proc)
    proc.kill()  # SIGKILL: no handler runs, the kill fault stays applied
    proc.communicate(timeout=60)
    _kill_load_children(tmp_path)
    victim = f"{project}-app-2"
    assert _state(victim) == "exited"
    cleaned = subprocess.run(
        [*HACHAOS, "cleanup", "--keep-stacks"],  # keep it up to check the revert
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
        check=False,
    )
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert _state(victim) == "running"
    assert only_run_dir(tmp_path / "out").is_dir()


def _kill_load_children(run_root: Path) -> None:
    # The Locust children stop by themselves at the run's deadline; end this
    # run's ones now (their command lines name the run folder).
    subprocess.run(["pkill", "-f", str(run_root)], check=False, timeout=10)
