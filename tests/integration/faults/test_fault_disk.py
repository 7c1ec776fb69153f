"""The disk fault cannot fill the host: overlay refused, payloads inert, dead-man, space back.

The stack's ``web`` replicas have a 16 MiB tmpfs at /data; /tmp is on the overlay root.
State is read from inside the container with the Docker SDK, not through harness code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Stack, container, wait_until
from faultkit import planned, runner
from pydantic import ValidationError

from harness.errors import FaultError, RevertError
from harness.faults.disk import DiskFault
from harness.scenario.models import Selector
from harness.scenario.plan import PlannedFault

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).parent / "child_run.py"
PAYLOAD = "/tmp; touch /PWNED; echo"


def _sh(stack: Stack, script: str, number: int = 1) -> tuple[int, str]:
    result = container(stack.project, "web", number).exec_run(["sh", "-c", script])
    return int(result.exit_code), result.output.decode()


def _used(stack: Stack) -> float:
    return float(_sh(stack, "df -Pk /data | awk 'NR==2 {print $3/$2}'")[1])


def _fill_files(stack: Stack, folder: str) -> list[str]:
    return _sh(stack, f"ls -a {folder} | grep hachaos-fill; true")[1].split()


def test_overlay_root_is_refused(stack: Stack, tmp_path: Path) -> None:
    # fill 1%: already reached on any disk, so old code "applied" it without writing.
    r = runner(stack.project, tmp_path)
    with pytest.raises(FaultError, match=r"root filesystem \(overlay\)"):
        r.apply(planned("disk", "web", (1,), path="/tmp", fill=0.01), planned_wall=0.0)
    assert _fill_files(stack, "/tmp") == []


def test_injection_in_path_never_runs(stack: Stack, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="expected an absolute path"):
        planned("disk", "web", (1,), path=PAYLOAD, fill=0.5)
    # Code that skips validation is refused again before any shell runs.
    spec = DiskFault.model_construct(
        type="disk", target=Selector(service="web"), at=0.0, for_=10.0, path=PAYLOAD, fill=0.5
    )
    step = PlannedFault(0, 0, "disk-1", "disk", spec, "web", (1,), 0.0, 10.0)
    with pytest.raises(FaultError, match="refusing path"):
        runner(stack.project, tmp_path).apply(step, planned_wall=0.0)
    assert _sh(stack, "test -e /PWNED")[0] != 0


def test_revert_checks_that_the_space_came_back(stack: Stack, tmp_path: Path) -> None:
    r = runner(stack.project, tmp_path)
    step = planned("disk", "web", (1,), path="/data", fill=0.6)
    r.apply(step, planned_wall=0.0)
    [name] = _fill_files(stack, "/data")
    # A process keeps the file open: deleting the name frees nothing.
    container(stack.project, "web", 1).exec_run(
        ["sh", "-c", f"echo $$ > /run/holder.pid; exec sleep 120 3< /data/{name}"], detach=True
    )
    assert wait_until(lambda: _sh(stack, "test -s /run/holder.pid")[0] == 0, timeout=5)
    try:
        with pytest.raises(RevertError, match="came back: a process still holds the file open"):
            r.revert(step)
        assert _fill_files(stack, "/data") == [] and _used(stack) >= 0.59
    finally:
        _sh(stack, "kill $(cat /run/holder.pid); rm -f /run/holder.pid")
    assert wait_until(lambda: _used(stack) < 0.1, timeout=10)


def test_dead_man_deletes_the_file_after_kill_9(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), stack.project, str(tmp_path / "run"), "diskdeadman",
         "disk", "web", "2", "2", "3", "path=/data", "fill=0.5"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "APPLIED"
    killed = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    def used2() -> float:
        return float(_sh(stack, "df -Pk /data | awk 'NR==2 {print $3/$2}'", 2)[1])

    assert used2() >= 0.49  # hachaos is dead, the file is still there
    # The watchdog's deadline is window (2 s) + margin (3 s) from the apply.
    assert wait_until(lambda: used2() < 0.1, timeout=15)
    assert time.monotonic() - killed < 15
    assert _sh(stack, "ls -a /data | grep hachaos-fill", 2)[0] != 0
