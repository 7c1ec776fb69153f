"""The load's child processes: the Locust master and the local workers, their logs, their end.

Each child gets a session of its own: Ctrl-C in the terminal reaches only the
orchestrator, which keeps the load running while it reverts faults.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import IO


def log_tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a child's log ('' when unreadable)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def terminate(
    order: list[subprocess.Popen[bytes]], timeout: float, *, reap_master: bool = True
) -> None:
    """SIGTERM the master (``order[0]``: it tells the workers to quit), then anything left;
    then SIGKILL.

    ``reap_master=False``: return once the workers are gone (they write the samples);
    the master's own exit (about a second) is left to :meth:`Children.close_master`.
    """
    end = time.monotonic() + timeout
    waited = order if reap_master else order[1:]
    for i, proc in enumerate(order):
        if proc.poll() is None and (i == 0 or proc in waited):
            proc.send_signal(signal.SIGTERM)
        if i == 0:
            # give the workers the chance to get the master's quit and flush
            wait_until(waited, min(end, time.monotonic() + timeout / 2))
    wait_until(waited, end)
    for proc in waited:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_until(procs: list[subprocess.Popen[bytes]], until: float) -> None:
    """Wait for each process in turn until the monotonic time ``until``."""
    for proc in procs:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return
        try:
            proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            return


class Children:
    """The master (spawned first) and the local workers of one load, with their logs."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.master: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def spawn(self, cmd: list[str], env: dict[str, str], log_name: str) -> None:
        """Start one child; the first one spawned is the master."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / log_name).open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if self.master is None:
            self.master = proc
        else:
            self.workers.append(proc)

    def named(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        out = [("master", self.master)] if self.master is not None else []
        return out + [(f"worker-{i}", w) for i, w in enumerate(self.workers)]

    def live_worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.poll() is None]

    def first_ended(self) -> str | None:
        """Which child has ended, e.g. ``worker-1 (pid 42) was killed by SIGKILL; log: …``."""
        for name, proc in self.named():
            code = proc.poll()
            if code is not None:
                log = self.log_dir / f"{name}.log"
                return f"{name} (pid {proc.pid}) {how_it_ended(code)}; log: {log}"
        return None

    def terminate(self, timeout: float, *, reap_master: bool = True) -> None:
        terminate([p for _, p in self.named()], timeout, reap_master=reap_master)

    def close_logs(self) -> None:
        for log in self._logs:
            log.close()
        self._logs.clear()

    def close_master(self, timeout: float) -> None:
        """Wait for (then kill) a master left exiting."""
        if self.master is not None and self.master.poll() is None:
            wait_until([self.master], time.monotonic() + timeout)
            if self.master.poll() is None:
                self.master.kill()
                self.master.wait()
