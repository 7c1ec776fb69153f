"""Generator health: CPU of the load worker processes, sampled about once a second.

A worker that runs flat out measures its own queueing as target latency, so a
run whose workers stay above the threshold is marked ``generator_saturated``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence

import psutil

SATURATION_PERCENT = 90.0
# One hot second is noise (GC, a flush); this many in a row is saturation.
SUSTAINED_SAMPLES = 2


class SaturationTracker:
    """Pure bookkeeping over per-worker CPU samples."""

    def __init__(self, threshold: float = SATURATION_PERCENT, sustained: int = SUSTAINED_SAMPLES):
        self.threshold = threshold
        self.sustained = sustained
        self.cpu_max = 0.0
        self.last_max = 0.0
        self.saturated = False
        self._streak: dict[Hashable, int] = {}

    def add(self, samples: Mapping[Hashable, float]) -> None:
        """Record one round of ``{worker (pid, or id of a remote one): cpu percent}``."""
        self.last_max = max(samples.values(), default=0.0)
        self.cpu_max = max(self.cpu_max, self.last_max)
        for pid, cpu in samples.items():
            streak = self._streak.get(pid, 0) + 1 if cpu > self.threshold else 0
            self._streak[pid] = streak
            if streak >= self.sustained:
                self.saturated = True


class CpuSampler:
    """A daemon thread sampling the CPU of the given processes.

    ``remote`` gives the CPU of workers on other hosts as their heartbeats report it
    (Locust's workers measure themselves with psutil, as here).
    """

    def __init__(
        self,
        pids: Callable[[], Sequence[int]],
        interval: float = 1.0,
        remote: Callable[[], Mapping[str, float]] | None = None,
    ) -> None:
        self.tracker = SaturationTracker()
        self._pids = pids
        self._remote = remote
        self._interval = interval
        self._procs: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hachaos-cpu", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self._interval)

    def _sample(self) -> dict[Hashable, float]:
        out: dict[Hashable, float] = {}
        if self._remote is not None:
            out.update(self._remote())
        for pid in self._pids():
            try:
                proc = self._procs.get(pid)
                if proc is None:
                    # the first reading only sets the baseline
                    proc = self._procs[pid] = psutil.Process(pid)
                    proc.cpu_percent(None)
                    continue
                out[pid] = proc.cpu_percent(None)
            except psutil.Error:
                self._procs.pop(pid, None)
        return out

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            samples = self._sample()
            with self._lock:
                self.tracker.add(samples)

    def read(self) -> tuple[float, float, bool]:
        """(last max %, max % so far, saturated)."""
        with self._lock:
            t = self.tracker
            return t.last_max, t.cpu_max, t.saturated
