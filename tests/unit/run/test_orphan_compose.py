"""A dead run's `docker compose -p <project>` processes are ended before its stack is swept."""

from __future__ import annotations

import secrets
import subprocess
import sys

from harness.engine.compose.project import stop_compose_processes

SLEEPER = "import time; time.sleep(60)"


def _fake_compose(*args: str) -> subprocess.Popen[bytes]:
    # A process whose command line looks like the compose CLI's (python keeps its argv).
    return subprocess.Popen([sys.executable, "-c", SLEEPER, *args])


def test_only_the_projects_compose_processes_are_ended() -> None:
    project = f"hachaos-orphan-{secrets.token_hex(3)}"
    mine = _fake_compose("compose", "-f", "x.yaml", "-p", project, "up", "--wait")
    long_flag = _fake_compose("compose", "--project-name", project, "up")
    other = _fake_compose("compose", "-p", project + "-2", "up")
    not_compose = _fake_compose("-p", project)
    try:
        assert stop_compose_processes(project, grace=5.0) == 2
        # Ended (psutil reaped them, so no exit code here): wait() would time out otherwise.
        mine.wait(timeout=5)
        long_flag.wait(timeout=5)
        assert other.poll() is None and not_compose.poll() is None
        assert stop_compose_processes(project, grace=5.0) == 0
    finally:
        for proc in (mine, long_flag, other, not_compose):
            proc.kill()
            proc.wait(timeout=5)
