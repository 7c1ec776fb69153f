"""Drive Locust from the orchestrator: one master and N workers as child processes.

This module must not import Locust (importing it monkey-patches the process);
the children run ``locust -f harness/load/locust_entry.py``. The master binds
to 127.0.0.1 and waits for the workers; workers write their sample chunks into
``out_dir/samples/``. :meth:`LoadDriver.stop` ends the children and merges the
chunks into ``out_dir/samples.parquet``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from harness.errors import LoadError, ScenarioError
from harness.load.chunks import merge_chunks
from harness.load.config import LoadConfig, StageSpec
from harness.load.health import CpuSampler
from harness.load.live import LiveTail
from harness.load.worker import ENTRY, worker_command
from harness.load.workloads.requests_config import requests_extra
from harness.ports import reserve_loopback_port
from harness.scenario.models import DurabilityCheck, Load

STARTED_MARKER = "started.json"  # written by the master when the test starts (locust_entry)
START_TIMEOUT_S = 60.0
# children quit by themselves this long after the planned end, even if we are gone
DEADLINE_MARGIN_S = 15.0


@dataclass(frozen=True)
class LoadPlan:
    """What to run; built by the orchestrator from the scenario."""

    target_url: str
    load: Load
    total_seconds: float
    seed: int
    out_dir: Path
    locustfile: Path | None
    workers: int
    run_id: str
    durability: DurabilityCheck | None = None  # its generic `write` joins load.requests


@dataclass(frozen=True)
class LoadSnapshot:
    """Live figures for the progress display; rps, errors and p99 cover the last 5 s."""

    elapsed: float
    requests: int
    rps: float
    error_rate: float
    p99_ms: float | None
    worker_cpu_max: float


@dataclass(frozen=True)
class LoadResult:
    """What the load left behind."""

    samples_path: Path
    requests: int
    dropped: int
    late: int
    generator_saturated: bool
    worker_cpu_max: float
    workers: int


def resolve_workers(processes: int | Literal["auto"]) -> int:
    """Worker process count: ``auto`` is one per core."""
    if processes == "auto":
        return max(os.cpu_count() or 1, 1)
    if processes < 1:
        raise ScenarioError(f"load.processes must be at least 1, found {processes}")
    return processes


def config_from_plan(plan: LoadPlan) -> LoadConfig:
    """The JSON-portable settings the children get."""
    load = plan.load
    return LoadConfig(
        target_url=plan.target_url,
        model=load.model,
        total_seconds=plan.total_seconds,
        run_id=plan.run_id,
        seed=plan.seed,
        users=load.users,
        spawn_rate=load.spawn_rate,
        rps=load.rps,
        stages=tuple(StageSpec(s.kind, s.target, s.duration) for s in load.stages),
        mix=(load.mix.read, load.mix.write, load.mix.read_item),
        timeout=load.timeout,
        think_time=load.think_time,
        workers=plan.workers,
        extra=requests_extra(load, plan.durability),
    )


def master_command(
    cfg: LoadConfig, port: int, workers: int, bind_host: str = "127.0.0.1"
) -> list[str]:
    """Command line of the Locust master (headless, bound to ``bind_host``)."""
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ENTRY),
        "--master",
        "--master-bind-host",
        bind_host,
        "--master-bind-port",
        str(port),
        "--headless",
        "--only-summary",
        "--expect-workers",
        str(workers),
        "--expect-workers-max-wait",
        str(int(START_TIMEOUT_S)),
        "--host",
        cfg.target_url,
        "--loglevel",
        "WARNING",
        "--hachaos-config",
        cfg.to_json(),
    ]
    if cfg.model == "open":
        # one scheduler user per worker; each sends its share of the arrivals
        cmd += ["-u", str(workers), "-r", str(workers)]
    elif not cfg.stages:
        cmd += ["-u", str(cfg.users or 1), "-r", str(cfg.spawn_rate)]
    if cfg.model == "open" or not cfg.stages:
        # the open schedule starts 0.5 s after the test; let its last requests time out
        tail = cfg.timeout + 1.5 if cfg.model == "open" else 0.0
        cmd += ["--run-time", f"{math.ceil(cfg.total_seconds + tail)}s"]
    return cmd


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class LoadDriver:
    """Runs one plan's load in child processes; see the module docstring."""

    def __init__(
        self, plan: LoadPlan, *, remote_workers: int = 0, master_bind_host: str = "127.0.0.1"
    ) -> None:
        """``remote_workers`` of ``plan.workers`` are started by hand, possibly on other
        machines, and join the master on ``master_bind_host:master_port`` (docs/load.md);
        the rest are spawned here."""
        if not 0 <= remote_workers < plan.workers + 1:
            raise LoadError(f"remote_workers={remote_workers} exceeds workers={plan.workers}")
        self.plan = plan
        self.remote_workers = remote_workers
        self.master_bind_host = master_bind_host
        # Reserved (flock) until stop(): another hachaos run starting now never picks the
        # same port for its master or its stack in the window before Locust binds it.
        self._port = reserve_loopback_port()
        self.master_port = self._port.port
        self.config = config_from_plan(plan)
        self.samples_dir = plan.out_dir / "samples"
        self.log_dir = self.samples_dir / "logs"
        self.samples_path = plan.out_dir / "samples.parquet"
        self._master: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._t0: float | None = None
        self._tail = LiveTail(self.samples_dir)
        self._cpu = CpuSampler(lambda: [w.pid for w in self._workers if w.poll() is None])
        self._result: LoadResult | None = None

    # ------------------------------------------------------------------ lifecycle
    def _spawn(self, cmd: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / log_name).open("wb")
        self._logs.append(log)
        # A session of their own: Ctrl-C in the terminal reaches only the
        # orchestrator, which keeps the load running while it reverts faults.
        return subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start(self) -> None:
        """Spawn the master and workers; return once the test has started."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port = self.master_port
        env = dict(os.environ)
        env.update(
            HACHAOS_SAMPLES_DIR=str(self.samples_dir),
            HACHAOS_PARENT_PID=str(os.getpid()),
            HACHAOS_DEADLINE=str(time.time() + START_TIMEOUT_S + self.plan.total_seconds),
            PYTHONUNBUFFERED="1",
        )
        env.pop("HACHAOS_SHAPE", None)
        env.pop("HACHAOS_EXPOSE", None)
        if self.plan.locustfile is not None:
            env["HACHAOS_LOCUSTFILE"] = str(self.plan.locustfile.resolve())
        else:
            env.pop("HACHAOS_LOCUSTFILE", None)
        if self.plan.load.requests and self.plan.locustfile is None:
            env["HACHAOS_WORKLOAD"] = "requests"
        else:
            env.pop("HACHAOS_WORKLOAD", None)
        master_env = dict(env, HACHAOS_EXPOSE=self.config.model)
        if self.config.model == "closed" and self.config.stages:
            master_env["HACHAOS_SHAPE"] = "1"
        try:
            self._master = self._spawn(
                master_command(self.config, port, self.plan.workers, self.master_bind_host),
                master_env,
                "master.log",
            )
            for i in range(self.plan.workers - self.remote_workers):
                self._workers.append(
                    self._spawn(worker_command("127.0.0.1", port), env, f"worker-{i}.log")
                )
            self._wait_started()
        except BaseException:
            self._terminate(timeout=5.0)
            self._close_logs()
            raise
        self._cpu.start()

    def _wait_started(self) -> None:
        marker = self.samples_dir / STARTED_MARKER
        deadline = time.monotonic() + START_TIMEOUT_S + 5
        while time.monotonic() < deadline:
            if marker.exists():
                try:
                    self._t0 = float(json.loads(marker.read_text())["t0"])
                    return
                except (ValueError, KeyError):
                    pass  # caught mid-write; try again
            for name, proc in self._children():
                if proc.poll() is not None:
                    raise LoadError(
                        f"the load {name} exited with code {proc.returncode} before the test "
                        f"started:\n{_tail(self.log_dir / f'{name}.log')}",
                        hint="fix the locustfile or the load settings; full logs in "
                        f"{self.log_dir}",
                    )
            time.sleep(0.1)
        raise LoadError(
            f"the load generator did not start within {START_TIMEOUT_S:.0f} s",
            hint=f"see the Locust logs in {self.log_dir}",
        )

    def _children(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        out = [("master", self._master)] if self._master is not None else []
        return out + [(f"worker-{i}", w) for i, w in enumerate(self._workers)]

    def running(self) -> bool:
        """True while the master and every local worker run.

        The master ends the test after ``total_seconds``. A worker that dies
        mid-run would silently lower the load (Locust carries on with the
        others), so it counts as the load having stopped; see :meth:`stopped_child`.
        """
        return self._master is not None and self._result is None and self.stopped_child() is None

    def stopped_child(self) -> str | None:
        """Which child process has ended, e.g. ``worker-1 (pid 42) was killed by SIGKILL``."""
        for name, proc in self._children():
            code = proc.poll()
            if code is not None:
                return (
                    f"{name} (pid {proc.pid}) {_how_it_ended(code)}; log: {self.log_dir / name}.log"
                )
        return None

    def snapshot(self) -> LoadSnapshot:
        """Live figures; cheap enough to call once a second."""
        stats = self._tail.poll()
        last_cpu, _, _ = self._cpu.read()
        elapsed = max(time.time() - self._t0, 0.0) if self._t0 is not None else 0.0
        return LoadSnapshot(
            elapsed=elapsed,
            requests=stats.requests,
            rps=stats.rps,
            error_rate=stats.error_rate,
            p99_ms=stats.p99_ms,
            worker_cpu_max=last_cpu,
        )

    def live_samples(self) -> list[tuple[int, float, bool]]:
        """Requests (start_us, latency_ms, ok) flushed since the last call (abort conditions).

        The first call starts the collection; call it once before :meth:`start`.
        """
        self._tail.keep_fresh = True
        self._tail.poll()
        return self._tail.drain()

    def _terminate(self, timeout: float) -> None:
        """SIGTERM the master (it tells the workers to quit), then anything left; then SIGKILL."""
        end = time.monotonic() + timeout
        order = [p for _, p in self._children()]
        for i, proc in enumerate(order):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            if i == 0:
                # give the workers the chance to get the master's quit and flush
                self._wait(order, min(end, time.monotonic() + timeout / 2))
        self._wait(order, end)
        for proc in order:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    @staticmethod
    def _wait(procs: list[subprocess.Popen[bytes]], until: float) -> None:
        for proc in procs:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                return

    def _close_logs(self) -> None:
        for log in self._logs:
            log.close()
        self._logs.clear()

    def stop(self, timeout: float = 30.0) -> LoadResult:
        """End the load (idempotent) and merge the chunks into ``samples.parquet``."""
        if self._result is not None:
            return self._result
        try:
            self._terminate(timeout)
        finally:
            self._cpu.stop()
            self._close_logs()
            self._port.release()
        try:
            stats = merge_chunks(
                self.samples_dir,
                self.samples_path,
                late_tolerance_ms=self.config.late_tolerance_ms,
            )
        except OSError as exc:
            raise LoadError(
                f"could not merge the load samples: {exc}",
                hint=f"the chunks are kept in {self.samples_dir}; retry with "
                "`python -m harness.load.merge <run folder>`",
            ) from exc
        _, cpu_max, saturated = self._cpu.read()
        self._result = LoadResult(
            samples_path=self.samples_path,
            requests=stats.requests,
            dropped=stats.dropped,
            late=stats.late,
            generator_saturated=saturated,
            worker_cpu_max=cpu_max,
            workers=self.plan.workers,
        )
        return self._result
