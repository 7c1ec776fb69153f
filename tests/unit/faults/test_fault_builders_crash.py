"""crash: the kill script run with sh against real processes, and each step on a fake engine.

/proc is faked by two stub commands the script reads it with: `sed` answers a stat line
whose start time (field 22) comes from a per-pid list (one line per read), `grep` answers
from a table of the container each pid belongs to. `kill` is the shell's own, so the
processes signalled are real `sleep`s.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.engine.containers import Target
from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.crash import Crash, CrashFault, kill_script
from harness.scenario.plan import PlannedFault

A, B = "a" * 64, "b" * 64


class FakeProc:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.table = folder / "cgroups"
        self.table.write_text("")
        filler = " ".join(["0"] * 18)
        self._stub(
            "sed",
            # the script's exact call; the comm field is already cut off by the real sed
            """[ "$1" = 's/^.*) //' ] || exit 2\n"""
            "pid=${2#/proc/}; pid=${pid%/stat}\n"
            f"n=$(cat {folder}/$pid.reads 2>/dev/null || echo 0); n=$((n+1))\n"
            f"echo $n > {folder}/$pid.reads\n"
            f"[ -e {folder}/$pid.starts ] || exit 1\n"
            f"s=$(head -n $n {folder}/$pid.starts | tail -n 1)\n"
            f'echo "S {filler} $s 0 0 0 0"',
        )
        self._stub(
            "grep",
            '[ "$1" = "-qF" ] && [ "$2" = "--" ] || exit 2\n'
            "pid=${4#/proc/}; pid=${pid%/cgroup}\n"
            'while read p c; do [ "$p" = "$pid" ] && [ "$c" = "$3" ] && exit 0;'
            f" done < {self.table}\n"
            "exit 1",
        )

    def _stub(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def add(self, pid: int, cid: str, *starts: str) -> None:
        with self.table.open("a") as fh:
            fh.write(f"{pid} {cid}\n")
        (self.folder / f"{pid}.starts").write_text("".join(f"{s}\n" for s in starts))

    def run(self, script: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **env_vars, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        return subprocess.run(
            ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=10, check=False
        )


def _default_signals() -> None:
    # A test run started in the background of a non-interactive shell ignores SIGINT,
    # and an ignored signal stays ignored across exec: the sleeps must take it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def sleeps() -> Iterator[list[subprocess.Popen[bytes]]]:
    # preexec_fn is safe here: the test process starts no threads of its own
    procs = [subprocess.Popen(["sleep", "30"], preexec_fn=_default_signals) for _ in range(2)]  # noqa: PLW1509
    yield procs
    for p in procs:
        p.kill()
        p.wait(timeout=10)


def test_kill_script_signals_every_checked_pid(
    tmp_path: Path, sleeps: list[subprocess.Popen[bytes]]
) -> None:
    proc = FakeProc(tmp_path)
    one, two = sleeps
    proc.add(one.pid, A, "1000")
    proc.add(two.pid, B, "2000")
    out = proc.run(kill_script("TERM", [(one.pid, A), (two.pid, B)]))
    assert (out.returncode, out.stdout) == (0, "")
    assert one.wait(timeout=10) == -signal.SIGTERM
    assert two.wait(timeout=10) == -signal.SIGTERM


def test_kill_script_ignores_an_inherited_seen_variable(
    tmp_path: Path, sleeps: list[subprocess.Popen[bytes]]
) -> None:
    proc = FakeProc(tmp_path)
    proc.add(sleeps[0].pid, A, "1000")
    out = proc.run(kill_script("TERM", [(sleeps[0].pid, A)]), seen="1:999")
    assert out.returncode == 0, out.stdout
    assert sleeps[0].wait(timeout=10) == -signal.SIGTERM


def test_kill_script_sends_the_signal_it_is_given(
    tmp_path: Path, sleeps: list[subprocess.Popen[bytes]]
) -> None:
    proc = FakeProc(tmp_path)
    proc.add(sleeps[0].pid, A, "1000")
    assert proc.run(kill_script("INT", [(sleeps[0].pid, A)])).returncode == 0
    assert sleeps[0].wait(timeout=10) == -signal.SIGINT


def test_kill_script_refuses_a_pid_restarted_between_check_and_kill(
    tmp_path: Path, sleeps: list[subprocess.Popen[bytes]]
) -> None:
    """The first pid's start time changes after the check: nothing is signalled."""
    proc = FakeProc(tmp_path)
    one, two = sleeps
    proc.add(one.pid, A, "1000", "1001")
    proc.add(two.pid, B, "2000")
    out = proc.run(kill_script("TERM", [(one.pid, A), (two.pid, B)]))
    assert out.returncode == 3
    assert out.stdout.strip() == f"REFUSED: pid {one.pid} changed before the kill"
    assert one.poll() is None and two.poll() is None


def test_kill_script_refuses_a_pid_that_left_the_container_before_the_kill(
    tmp_path: Path, sleeps: list[subprocess.Popen[bytes]]
) -> None:
    proc = FakeProc(tmp_path)
    one = sleeps[0]
    proc.add(one.pid, A, "1000")
    # its start time is unchanged, but after the first read its cgroup names no container
    script = kill_script("TERM", [(one.pid, A)]).replace(
        "set -- $seen\n", f"set -- $seen\n: > {proc.table}\n", 1
    )
    out = proc.run(script)
    assert out.returncode == 3
    assert out.stdout.strip() == f"REFUSED: pid {one.pid} changed before the kill"
    assert one.poll() is None


def test_kill_script_refuses_a_pid_without_a_start_time(tmp_path: Path) -> None:
    proc = FakeProc(tmp_path)
    with (tmp_path / "cgroups").open("a") as fh:
        fh.write(f"4242 {A}\n")  # in the container, but no /proc/4242/stat (it exited)
    out = proc.run(kill_script("TERM", [(4242, A)]))
    assert out.returncode == 3
    assert out.stdout.strip() == f"REFUSED: pid 4242 is not a process of container {A}"


def test_kill_script_accepts_pid_2_and_names_a_bad_container_id_by_12_characters() -> None:
    assert "2:" + A in kill_script("KILL", [(2, A)])
    with pytest.raises(FaultError) as err:
        kill_script("KILL", [(5, "0123456789abcdefXYZ")])
    assert err.value.message == "crash: refusing pid 5 of container '0123456789ab'"


# ------------------------------------------------------------------ the steps, faked engine
class Engine:
    def __init__(self, policy: str | None = "always") -> None:
        self.policy = policy
        self.pids: dict[str, int | Exception] = {A: 101, B: 202}
        self.states: dict[str, dict[str, str]] = {
            A: {"StartedAt": "t0", "Status": "running"},
            B: {"StartedAt": "t1", "Status": "running"},
        }

    def inspect(self, container_id: str) -> dict[str, Any]:
        name = "always" if container_id == A else self.policy  # only app-2's may lack one
        policy = {} if name is None else {"Name": name}
        return {"HostConfig": {"RestartPolicy": policy}}

    def state(self, container_id: str) -> dict[str, str]:
        if container_id not in self.states:
            raise TargetNotFound(f"{container_id[:4]} is gone")
        return self.states[container_id]

    def host_pid(self, container_id: str) -> int:
        pid = self.pids[container_id]
        if isinstance(pid, Exception):
            raise pid
        return pid


class Helpers:
    def __init__(self, code: int = 0, out: str = "") -> None:
        self.answer = (code, out)
        self.runs: list[tuple[list[str], dict[str, Any]]] = []

    def run_once(self, command: list[str], **kwargs: Any) -> tuple[int, str]:
        self.runs.append((command, kwargs))
        return self.answer


TARGETS = [Target(A, "app-1", "app", 1), Target(B, "app-2", "app", 2)]


def _ctx(engine: Engine, helpers: Helpers | None = None) -> FaultContext:
    return FaultContext(
        project="proj",
        run_id="run1",
        containers=engine,  # type: ignore[arg-type]
        helpers=helpers or Helpers(),  # type: ignore[arg-type]
    )


def _step(signal_name: str = "SIGTERM") -> PlannedFault:
    spec = CrashFault.model_validate(
        {"type": "crash", "target": {"service": "app"}, "at": 1, "signal": signal_name}
    )
    return PlannedFault(0, 0, "crash-1", "crash", spec, "app", (1, 2), 1.0, None)


@pytest.mark.parametrize("policy", [None, "", "no"])
def test_crash_plan_refuses_a_service_without_restart_policy(policy: str | None) -> None:
    with pytest.raises(FaultError) as err:
        Crash.extra_state(_step(), TARGETS, _ctx(Engine(policy)))
    assert err.value.message == "crash: app-2 has no restart policy, so it would stay down"
    assert err.value.hint == (
        "add `restart: always` (or on-failure) to the service, or use a `kill` fault with a window"
    )


@pytest.mark.parametrize(("given", "sent"), [("SIGTERM", "TERM"), ("KILL", "KILL"), ("9", "9")])
def test_crash_plan_records_the_signal_without_sig_and_the_start_times(
    given: str, sent: str
) -> None:
    state = Crash.extra_state(_step(given), TARGETS, _ctx(Engine("on-failure")))
    assert state["signal"] == sent
    assert state["started"] == {A: "t0", B: "t1"}


def _crash(engine: Engine, helpers: Helpers) -> Crash:
    state = {
        "key": "crash-1#0",
        "targets": [{"id": A, "name": "app-1"}, {"id": B, "name": "app-2"}],
        "tag": "ab12",
        "signal": "TERM",
        "started": {A: "t0", B: "t1"},
    }
    return Crash(_ctx(engine, helpers), state)


def test_crash_apply_runs_the_kill_script_from_a_host_pid_helper() -> None:
    helpers = Helpers()
    _crash(Engine(), helpers).apply()
    assert helpers.runs == [
        (
            ["sh", "-c", kill_script("TERM", [(101, A), (202, B)])],
            {"run_id": "run1", "project": "proj", "pid_mode": "host", "cap_add": ["KILL"]},
        )
    ]


def test_crash_apply_skips_a_vanished_target_and_reports_it() -> None:
    engine, helpers = Engine(), Helpers()
    engine.pids[A] = TargetNotFound("app-1 is gone")
    fault = _crash(engine, helpers)
    gone: list[tuple[str, str, str]] = []
    fault.ctx.on_gone = lambda name, phase, reason: gone.append((name, phase, reason))
    fault.apply()
    assert gone == [("app-1", "apply", "app-1 is gone")]
    assert helpers.runs[0][0] == ["sh", "-c", kill_script("TERM", [(202, B)])]


def test_crash_apply_fails_when_every_target_vanished() -> None:
    engine, helpers = Engine(), Helpers()
    engine.pids = {A: TargetNotFound("gone"), B: TargetNotFound("gone")}
    with pytest.raises(FaultError) as err:
        _crash(engine, helpers).apply()
    assert err.value.message == "every target of crash-1#0 vanished"
    assert helpers.runs == []


@pytest.mark.parametrize("pid", [0, -1])
def test_crash_apply_refuses_a_stopped_container(pid: int) -> None:
    engine, helpers = Engine(), Helpers()
    engine.pids[B] = pid
    with pytest.raises(FaultError) as err:
        _crash(engine, helpers).apply()
    assert err.value.message == "crash: app-2 is not running"
    assert helpers.runs == []


def test_crash_apply_accepts_pid_1_of_the_host() -> None:
    """A host pid of 1 passes apply's check (> 0); kill_script then refuses it."""
    engine = Engine()
    engine.pids[A] = 1
    with pytest.raises(FaultError, match="crash: refusing pid 1 "):
        _crash(engine, Helpers()).apply()


def test_crash_apply_fails_with_the_helpers_output() -> None:
    helpers = Helpers(3, "REFUSED: pid 101 changed before the kill\n")
    with pytest.raises(FaultError) as err:
        _crash(Engine(), helpers).apply()
    assert err.value.message == (
        "crash: kill of host pids [101, 202] failed: REFUSED: pid 101 changed before the kill"
    )


def test_crash_verify_waits_for_a_new_start_of_every_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine()
    engine.states = {
        A: {"StartedAt": "t2", "Status": "running"},
        B: {"StartedAt": "t3", "Status": "running"},
    }
    _crash(engine, Helpers()).verify()
    engine.states[B] = {"StartedAt": "t1", "Status": "running"}  # never restarted
    fault = _crash(engine, Helpers())
    fault.ctx.verify_timeout = 0.0
    with pytest.raises(FaultError, match="app-2 did not come back"):
        fault.verify()


def test_crash_verify_reports_a_vanished_target_with_its_phase() -> None:
    engine = Engine()
    engine.states = {A: {"StartedAt": "t2", "Status": "running"}}
    fault = _crash(engine, Helpers())
    gone: list[tuple[str, str, str]] = []
    fault.ctx.on_gone = lambda name, phase, reason: gone.append((name, phase, reason))
    fault.verify()
    assert gone == [("app-2", "verify", "bbbb is gone")]
