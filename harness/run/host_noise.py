"""The host's own noise during a run: load average, CPU steal and other processes' CPU,
sampled every 2 s into ``host.jsonl`` of the run folder (analysed by analysis/host.py).

Other processes are everything but hachaos (this process and its children, the Locust
workers among them) and the host's containers (the stack under test and any other):
what a CI neighbour or a build on the same machine costs the run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from harness.engine.host_cpu import containers_cpu_seconds
from harness.evidence.events import EventLog
from harness.records import EV_HOST

HOST_FILE = "host.jsonl"
INTERVAL_S = 2.0
MAX_SAMPLES = 50_000  # a bound for a run of more than a day


def _cpu_ticks(stat: Path) -> tuple[float, float, float] | None:
    """(total, idle incl. iowait, steal) jiffies of /proc/stat's ``cpu`` line."""
    try:
        fields = stat.read_text().splitlines()[0].split()
        values = [float(v) for v in fields[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = values
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total, idle + iowait, steal


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and its live descendants."""
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


class HostSampler:
    """A daemon thread that writes one sample every ``interval`` s; never raises into a run."""

    def __init__(
        self,
        path: Path,
        *,
        interval: float = INTERVAL_S,
        proc: Path = Path("/proc"),
        containers: Callable[[], float | None] = containers_cpu_seconds,
    ) -> None:
        self.path = path
        self.interval = interval
        self.proc = proc
        self.containers = containers
        self.cores = os.cpu_count() or 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="host-noise", daemon=True)
        self._last: tuple[Any, ...] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sample(self) -> dict[str, Any] | None:
        """One sample (None for the first call: CPU shares need a previous reading)."""
        ticks = _cpu_ticks(self.proc / "stat")
        now = (time.monotonic(), ticks, _own_cpu_seconds(), self.containers())
        try:
            load1 = float((self.proc / "loadavg").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            load1 = None
        last, self._last = self._last, now
        if last is None or ticks is None or last[1] is None:
            return {"load1": load1, "cores": self.cores} if last is None else None
        elapsed = now[0] - last[0]
        d_total = ticks[0] - last[1][0]
        if elapsed <= 0 or d_total <= 0:
            return None
        busy = (d_total - (ticks[1] - last[1][1])) / d_total * self.cores  # cores in use
        own = (now[2] - last[2]) / elapsed
        containers = None if now[3] is None or last[3] is None else (now[3] - last[3]) / elapsed
        other = max(0.0, busy - max(own, 0.0) - max(containers or 0.0, 0.0))
        return {
            "load1": load1,
            "cores": self.cores,
            "steal": (ticks[2] - last[1][2]) / d_total,
            "busy_cores": busy,
            "own_cores": own,
            "container_cores": containers,
            "other_cores": other,
        }

    def _loop(self) -> None:
        log = EventLog(self.path)
        try:
            for _ in range(MAX_SAMPLES):
                try:
                    sample = self.sample()
                    if sample is not None:
                        log.emit(EV_HOST, **sample)
                except Exception:
                    pass
                if self._stop.wait(self.interval):
                    return
        finally:
            log.close()


@contextmanager
def sampling_host(run_dir: Path) -> Iterator[HostSampler]:
    """Sample the host into ``run_dir/host.jsonl`` while the block runs."""
    sampler = HostSampler(run_dir / HOST_FILE)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()
