"""memory: the hog script run with sh and stub commands, and each step against a fake engine."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_clock import ScriptedClock

from harness.errors import FaultError, TargetNotFound
from harness.faults.base import FaultContext
from harness.faults.memory import Memory, _alive, hog_script


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _env(bin_dir: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_hog_script_holds_size_bytes_and_records_both_pids(tmp_path: Path) -> None:
    log = tmp_path / "calls"
    # head hands over 3 bytes only; sleep returns at once (the hog would wait till the deadline)
    _stub(tmp_path, "head", f"echo \"head $*\" >> {log}; printf 'abc'")
    _stub(tmp_path, "sleep", f'echo "sleep $*" >> {log}')
    pidfile = tmp_path / "hog.pid"
    proc = subprocess.Popen(
        ["sh", "-c", hog_script(4096, str(pidfile), deadline=2.7)], env=_env(tmp_path)
    )
    assert proc.wait(timeout=10) == 0
    assert log.read_text().splitlines() == ["head -c 4096 /dev/zero", "sleep 3"]
    # the hog's own pid (what verify reads VmRSS of) and its sleep's (killed on revert)
    assert pidfile.read_text().strip() == str(proc.pid)
    sleep_pid = (tmp_path / "hog.pid.sleep").read_text().strip()
    assert sleep_pid.isdigit() and sleep_pid != str(proc.pid)


def test_hog_script_turns_the_zeros_into_a_shell_variable(tmp_path: Path) -> None:
    """Real head and tr: a NUL cannot live in a shell variable, so tr must map it."""
    _stub(tmp_path, "sleep", "exit 0")
    pidfile = tmp_path / "hog.pid"
    script = hog_script(5, str(pidfile), deadline=0) + '; echo "[$x]"'
    out = subprocess.run(
        ["sh", "-c", script],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert out.stdout.strip() == "[xxxxx]"


class FakeContainers:
    """exec_in answers from a table of (script prefix → (code, output)); every call logged."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, bool]] = []

    def exec_in(self, container_id: str, script: str, *, detach: bool = False) -> tuple[int, str]:
        self.calls.append((container_id, script, detach))
        for prefix, answer in self.answers.items():
            if script.startswith(prefix):
                return answer
        return 0, ""


def _memory(
    containers: FakeContainers,
    *,
    size: int = 1_024_000,
    timeout: float = 30.0,
    clock: ScriptedClock | None = None,
) -> Memory:
    state: dict[str, Any] = {
        "key": "memory#0",
        "targets": [{"id": "c1", "name": "app-1"}],
        "tag": "ab12",
        "size": size,
        "deadline": 2.5,
    }
    ctx = FaultContext(project="p", run_id="r", verify_timeout=timeout, containers=containers)  # type: ignore[arg-type]
    ctx.clock = clock or ScriptedClock()
    return Memory(ctx, state)


PID = "/tmp/.hachaos-mem-ab12.pid"


def test_memory_apply_starts_the_hog_detached_with_its_tagged_pidfile() -> None:
    fake = FakeContainers({})
    _memory(fake).apply()
    assert fake.calls == [("c1", hog_script(1_024_000, PID, 2.5), True)]


def test_memory_verify_passes_at_exactly_90_percent_of_size() -> None:
    """size 1 024 000 bytes: 90 % is 921 600 bytes = 900 KiB of VmRSS."""
    fake = FakeContainers({"grep VmRSS": (0, "VmRSS:\t     900 kB\n")})
    _memory(fake).verify()
    assert fake.calls == [("c1", f"grep VmRSS /proc/$(cat {PID})/status 2>/dev/null", False)]


def test_memory_verify_reads_a_bare_two_word_vmrss_line() -> None:
    _memory(FakeContainers({"grep VmRSS": (0, "VmRSS: 900")})).verify()


@pytest.mark.parametrize(
    ("answer", "held"),
    [
        ((0, "VmRSS:\t     899 kB\n"), 920_576),  # one KiB short of 90 %
        ((1, "VmRSS:\t     900 kB\n"), 0),  # grep failed: the hog is not there
        ((0, "VmRSS:"), 0),  # no number
    ],
)
def test_memory_verify_fails_below_90_percent(answer: tuple[int, str], held: int) -> None:
    fake = FakeContainers({"grep VmRSS": answer})
    with pytest.raises(FaultError) as err:
        _memory(fake, timeout=0.0).verify()
    assert err.value.message == f"memory: the hog in app-1 holds {held} bytes, not 1024000"
    assert err.value.hint == "the container may lack sh/head/tr, or its memory limit is lower"


def test_memory_verify_polls_until_the_hog_has_grown() -> None:
    sizes = iter(["VmRSS: 10 kB", "VmRSS: 500 kB", "VmRSS: 1000 kB"])
    clock = ScriptedClock()

    class Growing(FakeContainers):
        def exec_in(
            self, container_id: str, script: str, *, detach: bool = False
        ) -> tuple[int, str]:
            self.calls.append((container_id, script, detach))
            return 0, next(sizes)

    fake = Growing({})
    _memory(fake, clock=clock).verify()
    assert len(fake.calls) == 3
    assert clock.naps == [0.1, 0.1]


def test_memory_revert_signals_only_the_hog_named_by_the_pidfile() -> None:
    """The revert script, run with sh against a real process named by the pidfile."""
    fake = FakeContainers({})
    m = _memory(fake)
    m.state["tag"] = tag = secrets.token_hex(6)  # the pidfile lives in /tmp: never collide
    m.revert()
    [(container, script, detach)] = fake.calls
    assert (container, detach) == ("c1", False)
    hog = subprocess.Popen(["sleep", "30"])
    nap = subprocess.Popen(["sleep", "30"])
    pid = Path(f"/tmp/.hachaos-mem-{tag}.pid")
    try:
        pid.write_text(f"{hog.pid}\n")
        Path(f"{pid}.sleep").write_text(f"{nap.pid}\n")
        out = subprocess.run(["sh", "-c", script], timeout=10, check=False)
        assert out.returncode == 0
        assert hog.wait(timeout=10) == -signal.SIGTERM
        assert nap.poll() is None  # the hog's own trap ends its sleep, not the revert
        # run again: the hog is gone, and that is not an error
        assert subprocess.run(["sh", "-c", script], timeout=10, check=False).returncode == 0
    finally:
        for p in (hog, nap):
            p.kill()
            p.wait(timeout=10)
        pid.unlink(missing_ok=True)
        Path(f"{pid}.sleep").unlink(missing_ok=True)


# Runs the hog and the revert under a child subreaper: whatever the hog leaves
# unreaped is orphaned to that child, which reports it (as a container's init would
# keep it as a zombie). Prints "<hog exit code> <orphans>".
_UNDER_A_SUBREAPER = """
import ctypes, os, subprocess, sys, time
import psutil
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
hog_sh, revert_sh, wait_for = sys.argv[1:4]
hog = subprocess.Popen(["sh", "-c", hog_sh], env=os.environ)
for _ in range(200):
    if os.path.exists(wait_for) and open(wait_for).read().strip():
        break
    time.sleep(0.05)
subprocess.run(["sh", "-c", revert_sh], check=True, timeout=10)
code = hog.wait(timeout=10)
time.sleep(0.3)
orphans = [c.pid for c in psutil.Process().children()]
for pid in orphans:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(code, orphans)
"""


@pytest.mark.parametrize("when", ["holding", "reading"])
def test_the_reverted_hog_reaps_its_sleep_and_leaves_no_orphan(tmp_path: Path, when: str) -> None:
    """Real sh, head, tr and sleep. Reverted while it holds the bytes, or while it still
    reads them (head stubbed to take 1 s): the hog exits 0 either way and nothing is
    orphaned. Killing the sleep and then the shell left a zombie when the shell died
    before it reaped the sleep (a CI run on 7 Dec)."""
    if when == "reading":
        _stub(tmp_path, "head", "sleep 1; printf 'abc'")
    fake = FakeContainers({})
    m = _memory(fake)
    m.state["tag"] = tag = secrets.token_hex(6)
    pidfile = f"/tmp/.hachaos-mem-{tag}.pid"
    m.revert()
    [(_, revert_sh, _)] = fake.calls
    hog_sh = hog_script(4096, pidfile, deadline=30)
    wait_for = f"{pidfile}.sleep" if when == "holding" else pidfile
    try:
        out = subprocess.run(
            [sys.executable, "-c", _UNDER_A_SUBREAPER, hog_sh, revert_sh, wait_for],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    finally:
        Path(pidfile).unlink(missing_ok=True)
        Path(f"{pidfile}.sleep").unlink(missing_ok=True)
    assert out.stdout.split() == ["0", "[]"]


def test_memory_verify_reverted_removes_the_pidfiles_once_the_hog_is_gone() -> None:
    fake = FakeContainers({"pid=$(cat": (1, "")})
    _memory(fake).verify_reverted()
    assert fake.calls == [("c1", _alive(PID), False), ("c1", f"rm -f {PID} {PID}.sleep", False)]


def test_the_hog_counts_as_gone_once_it_is_a_zombie(tmp_path: Path) -> None:
    """An init that never reaps (most images have no tini) keeps a killed hog listed as a
    zombie; it holds no memory, so the check says gone. A live one is alive."""
    pidfile = tmp_path / "hog.pid"
    live = subprocess.Popen(["sleep", "30"])
    dead = subprocess.Popen(["true"])  # exits at once; a zombie until we wait for it
    try:
        pidfile.write_text(f"{live.pid}\n")
        assert subprocess.run(["sh", "-c", _alive(str(pidfile))], check=False).returncode == 0
        os.waitid(os.P_PID, dead.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
        pidfile.write_text(f"{dead.pid}\n")
        assert subprocess.run(["sh", "-c", _alive(str(pidfile))], check=False).returncode == 1
        pidfile.write_text("")  # no pid at all: gone
        assert subprocess.run(["sh", "-c", _alive(str(pidfile))], check=False).returncode != 0
    finally:
        live.kill()
        live.wait(timeout=10)
        dead.wait(timeout=10)


def test_memory_verify_reverted_gives_up_after_5_s_of_polls_every_0_1_s() -> None:
    clock = ScriptedClock()
    tries: list[float] = []

    class Alive(FakeContainers):  # the hog stays alive
        def exec_in(
            self, container_id: str, script: str, *, detach: bool = False
        ) -> tuple[int, str]:
            tries.append(clock.t)
            return super().exec_in(container_id, script, detach=detach)

    fake = Alive({"pid=$(cat": (0, "")})
    with pytest.raises(FaultError) as err:
        _memory(fake, clock=clock).verify_reverted()
    assert err.value.message == "memory: the hog in app-1 is still alive"
    # about 50 polls, 0.1 s apart, the last one the first past 5 s
    assert 50 <= len(fake.calls) <= 52 and clock.naps == [0.1] * (len(fake.calls) - 1)
    assert tries[-2] <= 5.0 < tries[-1] < 5.1 + 1e-9
    assert not any(s.startswith("rm ") for _, s, _ in fake.calls)


def test_memory_pidfile_is_named_by_the_tag() -> None:
    assert _memory(FakeContainers({})).pidfile == PID


def test_memory_verify_gives_up_only_once_past_its_deadline() -> None:
    """At exactly the deadline it still polls once more; 0.5 s later it fails."""
    clock = ScriptedClock(monos=[100.0, 100.0, 100.5])
    fake = FakeContainers({"grep VmRSS": (0, "VmRSS: 1 kB")})
    with pytest.raises(FaultError):
        _memory(fake, timeout=0.0, clock=clock).verify()
    assert clock.naps == [0.1]


class Vanished(FakeContainers):
    def exec_in(self, container_id: str, script: str, *, detach: bool = False) -> tuple[int, str]:
        raise TargetNotFound(f"{container_id} is gone")


@pytest.mark.parametrize(
    ("step", "phase"),
    [("verify", "verify"), ("revert", "revert"), ("verify_reverted", "revert")],
)
def test_memory_reports_a_vanished_target_with_its_phase(step: str, phase: str) -> None:
    gone: list[tuple[str, str, str]] = []
    m = _memory(Vanished({}))
    m.ctx.on_gone = lambda name, ph, reason: gone.append((name, ph, reason))
    getattr(m, step)()
    assert gone == [("app-1", phase, "c1 is gone")]


def test_memory_apply_to_a_vanished_target_fails_and_reports_it() -> None:
    gone: list[tuple[str, str, str]] = []
    m = _memory(Vanished({}))
    m.ctx.on_gone = lambda name, ph, reason: gone.append((name, ph, reason))
    with pytest.raises(FaultError):
        m.apply()
    assert gone == [("app-1", "apply", "c1 is gone")]
