"""Wiring of the run's guards: HTTP probes, check commands, the abort watch, steady rounds.

The judging is pure (harness/analysis/abort.py, steady.py); this module makes
the requests and runs the commands. Probes only go to loopback URLs: the load's
target or a port the run's own stack publishes. Commands are user-supplied:
run as an argv list (never through a shell), with a timeout, in their own
process group (killed whole on timeout), with their output cut to a few KiB.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.analysis.abort import AbortMonitor, LiveSample, Trip
from harness.analysis.steady import Answer, ProbeResult, judge
from harness.errors import ScenarioError
from harness.scenario.guards import Abort, CommandFails, ProbeFails, SteadyProbe

MAX_BODY = 64 * 1024  # bytes of a probe answer read
MAX_OUTPUT = 4096  # bytes of a command's output kept (the tail)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_log = logging.getLogger(__name__)

Resolver = Callable[[str, int], tuple[str, int]]  # (service, container port) -> (host, port)


def loopback_base(url: str) -> urllib.parse.SplitResult:
    """``url`` split, or ScenarioError when it is not http(s) on loopback."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or parsed.hostname not in LOOPBACK:
        raise ScenarioError(
            f"refusing to probe {url!r}: probes only go to 127.0.0.1",
            hint="give stack.target as {service, port} or a http://127.0.0.1 URL",
        )
    return parsed


@dataclass(frozen=True)
class Endpoints:
    """Turns a probe's (service, port, path) into a loopback URL of the run's stack."""

    target_url: str
    resolve: Resolver

    def url(self, service: str | None, port: int | None, path: str) -> str:
        if service is None or port is None:
            base = loopback_base(self.target_url)
            prefix = base.path.rstrip("/")
            return urllib.parse.urlunsplit((base.scheme, base.netloc, prefix + path, "", ""))
        host, host_port = self.resolve(service, port)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        url = f"http://{'[' + host + ']' if ':' in host else host}:{host_port}{path}"
        loopback_base(url)
        return url


def http_get(url: str, timeout: float) -> Answer:
    """One GET, no proxy, no redirect followed; the body cut at ``MAX_BODY``."""
    parsed = loopback_base(url)
    cls = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    start = time.monotonic()
    conn = cls(parsed.hostname or "127.0.0.1", parsed.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "hachaos-probe"})
        resp = conn.getresponse()
        body = resp.read(MAX_BODY)
        return Answer(resp.status, body, (time.monotonic() - start) * 1000.0)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, b"", (time.monotonic() - start) * 1000.0, f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


@dataclass(frozen=True)
class CommandResult:
    ok: bool
    returncode: int | None  # None: timed out (killed)
    output: str  # the tail of stdout+stderr
    seconds: float

    def describe(self) -> str:
        what = "timed out" if self.returncode is None else f"exited {self.returncode}"
        tail = " ".join(self.output.split())[-300:]
        return f"{what} after {self.seconds:.1f}s" + (f": {tail}" if tail else "")


def run_command(
    argv: Sequence[str], *, timeout: float, cwd: Path, env: dict[str, str]
) -> CommandResult:
    """Run ``argv`` (no shell) with a timeout; keep the last ``MAX_OUTPUT`` bytes of output."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout kills its children too
        )
    except OSError as exc:
        return CommandResult(False, 127, f"cannot run {argv[0]!r}: {exc}", 0.0)
    tail = bytearray()

    def drain() -> None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while chunk := os.read(fd, 4096):
            tail.extend(chunk)
            del tail[:-MAX_OUTPUT]

    reader = threading.Thread(target=drain, daemon=True, name="guard-cmd-output")
    reader.start()
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    reader.join(timeout=2.0)
    if proc.stdout is not None:
        proc.stdout.close()
    output = bytes(tail).decode("utf-8", "replace")
    return CommandResult(code == 0, code, output, time.monotonic() - start)


def steady_round(probes: Sequence[SteadyProbe], endpoints: Endpoints) -> list[ProbeResult]:
    """Every steady-state probe once, in order."""
    return [judge(p, http_get(endpoints.url(p.service, p.port, p.path), p.timeout)) for p in probes]


class AbortWatch:
    """Feeds the monitor from the live samples and, in one thread, from probes and commands."""

    def __init__(
        self,
        spec: Abort,
        *,
        start_wall: float,
        end_wall: float,
        endpoints: Endpoints,
        cwd: Path,
        env: dict[str, str],
    ) -> None:
        self.monitor = AbortMonitor(spec.conditions, start_wall, end_wall)
        self.endpoints = endpoints
        self.cwd, self.env = cwd, env
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._active = [
            (i, c)
            for i, c in enumerate(spec.conditions)
            if isinstance(c, ProbeFails | CommandFails)
        ]
        self._urls = {
            i: endpoints.url(c.service, c.port, c.path)
            for i, c in self._active
            if isinstance(c, ProbeFails)
        }
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """One thread per probe/command condition: a slow command never delays a probe."""
        for i, cond in self._active:
            thread = threading.Thread(
                target=self._loop, args=(i, cond), daemon=True, name=f"abort-watch-{i}"
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:  # a command still running ends at its own timeout
            thread.join(timeout=10.0)

    def check(
        self, samples: Sequence[tuple[int, float, bool]], complete_before: float | None = None
    ) -> Trip | None:
        """Take in new live samples (start_us, latency_ms, ok) and the load's watermark
        (every request sent before it is in); the trip, once one happened."""
        with self._lock:
            rows = (LiveSample(s / 1e6, lat, ok) for s, lat, ok in samples)
            self.monitor.feed(rows, complete_before)
            return self.monitor.advance()

    def _loop(self, index: int, cond: ProbeFails | CommandFails) -> None:
        due = self.monitor.start
        while not self._stop.is_set():
            now = time.time()
            if now >= self.monitor.end:
                return
            if now >= due:
                due = max(due + cond.every, now)
                ok, detail = self._once(index, cond)
                with self._lock:
                    if self.monitor.result(index, time.time(), ok, detail) is not None:
                        return
            self._stop.wait(min(max(due - time.time(), 0.05), 0.5))

    def _once(self, index: int, cond: ProbeFails | CommandFails) -> tuple[bool, str]:
        try:
            if isinstance(cond, ProbeFails):
                answer = http_get(self._urls[index], cond.timeout)
                if answer.error:
                    return False, f"no answer: {answer.error}"
                if answer.status not in cond.expect:
                    return False, f"status {answer.status}"
                return True, f"status {answer.status}"
            result = run_command(cond.argv, timeout=cond.timeout, cwd=self.cwd, env=self.env)
            return result.ok, result.describe()
        except Exception as exc:  # a probe bug must not kill the watch silently
            _log.warning("abort condition %d could not be evaluated", index, exc_info=True)
            return False, f"could not evaluate: {exc!r}"
