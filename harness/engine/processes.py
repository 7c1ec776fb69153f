"""Processes an engine adapter started outside the run's own process tree (a `compose up`,
a port forward), ended by their command line when the run that started them died."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import psutil


def stop_processes(matches: Callable[[list[str]], bool], *, grace: float = 10.0) -> int:
    """SIGTERM every process whose command line ``matches``, SIGKILL what is left after
    ``grace`` s, and wait for those too; returns how many matched."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if matches(proc.info["cmdline"] or []):
                found.append(proc)
    for proc in found:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(found, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)
    return len(found)
