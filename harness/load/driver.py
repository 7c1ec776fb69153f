"""Drive Locust from the orchestrator: one master and N workers as child processes.

This module must not import Locust (importing it monkey-patches the process);
the children run ``locust -f harness/load/locust_entry.py``. The master binds
to 127.0.0.1 and waits for the workers; workers write their sample chunks into
``out_dir/samples/``. :meth:`LoadDriver.stop` ends the children and merges the
chunks into ``out_dir/samples.parquet``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.clock import REAL_CLOCK, Clock, poll_until
from harness.errors import LoadError, ScenarioError
from harness.load.children import Children, how_it_ended, log_tail
from harness.load.chunks import FLUSH_INTERVAL_S, merge_chunks
from harness.load.config import LoadConfig, StageSpec
from harness.load.gate import GATE_ENV, GATE_FILE, Go, open_gate
from harness.load.health import CpuSampler
from harness.load.joining import JoinWait, wait_joined, wait_schedule_done
from harness.load.live import LiveTail
from harness.load.roster import Roster, RosterView, WorkerEntry, read_roster
from harness.load.worker import ENTRY, worker_command
from harness.load.workloads.consistency_config import consistency_extra
from harness.load.workloads.requests_config import requests_extra
from harness.ports import reserve_loopback_port
from harness.scenario.consistency import ConsistencyCheck
from harness.scenario.models import DurabilityCheck, Load

STARTED_MARKER = "started.json"  # written by the master when the test starts (locust_entry)
START_TIMEOUT_S = 60.0  # Locust's own wait for workers (no remote ones) and the test start
# children quit by themselves this long after the planned end, even if we are gone
DEADLINE_MARGIN_S = 15.0
# a pre-spawned load waits at most this long for the stack (build + up + ready check)
PREPARE_TIMEOUT_S = 1800.0


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
    consistency: ConsistencyCheck | None = None  # its operations join the open model
    # Workers not spawned here (placed by an engine, or started by hand) of ``workers``;
    # they join the master on ``master_bind:master_port`` within ``join_timeout`` s.
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int | None = None  # None: a free loopback port, reserved
    join_timeout: float = START_TIMEOUT_S


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
    # Epoch seconds between which the generator sends (None: it never started).
    sending_from_wall: float | None = None
    sending_until_wall: float | None = None


def sending_span(model: str, marker: dict[str, Any], total_seconds: float) -> tuple[float, float]:
    """Epoch seconds between which the generator sends, from the master's start marker.

    The open schedule runs from its epoch ``t0`` (half a second after the test start,
    so that every worker has it); closed-model users start with the test itself.
    """
    start = float(marker["t0"]) if model == "open" else float(marker.get("started", marker["t0"]))
    return start, start + total_seconds


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
        arrivals=load.arrivals,
        stages=tuple(StageSpec(s.kind, s.target, s.duration) for s in load.stages),
        mix=(load.mix.read, load.mix.write, load.mix.read_item),
        timeout=load.timeout,
        think_time=load.think_time,
        workers=plan.workers,
        extra=requests_extra(load, plan.durability) | consistency_extra(load, plan.consistency),
    )


def master_command(
    cfg: LoadConfig,
    port: int,
    workers: int,
    bind_host: str = "127.0.0.1",
    *,
    wait_workers: float = START_TIMEOUT_S,
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
        str(int(wait_workers)),
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
    if not cfg.target_url:
        # pre-spawned: the gate hands the target over; Locust needs a host to parse
        cmd[cmd.index("--host") + 1] = "http://127.0.0.1"
    return cmd


def child_environments(
    plan: LoadPlan, cfg: LoadConfig, deadline: float, gate: Path | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The (workers', master's) environments: this one's, less any hachaos settings it
    carries, plus the load's."""
    env = dict(os.environ)
    env.update(
        HACHAOS_SAMPLES_DIR=str(plan.out_dir / "samples"),
        HACHAOS_PARENT_PID=str(os.getpid()),
        HACHAOS_DEADLINE=str(deadline),
        PYTHONUNBUFFERED="1",
    )
    for key in ("HACHAOS_SHAPE", "HACHAOS_EXPOSE", GATE_ENV, "HACHAOS_LOCUSTFILE"):
        env.pop(key, None)
    if plan.locustfile is not None:
        env["HACHAOS_LOCUSTFILE"] = str(plan.locustfile.resolve())
    if plan.load.requests and plan.locustfile is None:
        env["HACHAOS_WORKLOAD"] = "requests"
    else:
        env.pop("HACHAOS_WORKLOAD", None)
    master_env = dict(env, HACHAOS_EXPOSE=cfg.model)
    if cfg.model == "closed" and cfg.stages:
        master_env["HACHAOS_SHAPE"] = "1"
    if gate is not None:
        master_env[GATE_ENV] = str(gate)
    return env, master_env


class LoadDriver:
    """Runs one plan's load in child processes; see the module docstring."""

    def __init__(
        self,
        plan: LoadPlan,
        *,
        remote_workers: int | None = None,
        master_bind_host: str | None = None,
    ) -> None:
        """``remote_workers`` of ``plan.workers`` (default: the plan's) are placed by an
        engine or started by hand, possibly on other machines, and join the master on
        ``master_bind_host:master_port`` (docs/load.md); the rest are spawned here."""
        if remote_workers is not None or master_bind_host is not None:
            plan = dataclasses.replace(
                plan,
                remote_workers=plan.remote_workers if remote_workers is None else remote_workers,
                master_bind=master_bind_host or plan.master_bind,
            )
        if not 0 <= plan.remote_workers <= plan.workers:
            raise LoadError(f"remote_workers={plan.remote_workers} exceeds workers={plan.workers}")
        self.plan = plan
        self.remote_workers = plan.remote_workers
        self.master_bind_host = plan.master_bind
        # Reserved (flock) until stop(): another hachaos run starting now never picks the
        # same port for its master or its stack in the window before Locust binds it.
        self._port = reserve_loopback_port()
        self.master_port = plan.master_port or self._port.port
        # Words for the workers that did not join in time (an engine's view of its tasks).
        self.explain_missing: Callable[[list[WorkerEntry]], str] | None = None
        self.config = config_from_plan(plan)
        self.samples_dir = plan.out_dir / "samples"
        self.log_dir = self.samples_dir / "logs"
        self.samples_path = plan.out_dir / "samples.parquet"
        self._children = Children(self.log_dir)
        self._t0: float | None = None
        self._sending: tuple[float, float] | None = None
        self._tail = LiveTail(self.samples_dir, workers=plan.workers)
        self._roster = RosterView(self.samples_dir)
        self._cpu = CpuSampler(
            self._children.live_worker_pids,
            remote=lambda: read_roster(self.samples_dir).cpu() if self.remote_workers else {},
        )
        self._result: LoadResult | None = None
        self._gate: Path | None = None  # set by prespawn(): the children wait for it
        self.released = False  # start() was called: the load owes a result

    # ------------------------------------------------------------------ lifecycle
    def prespawn(self, prepare_timeout: float = PREPARE_TIMEOUT_S) -> None:
        """Spawn the children now, before the target is known; :meth:`start` releases them.

        Locust's imports take seconds: done while the stack deploys, they cost
        no wall time. The master holds before the test (see harness.load.gate);
        call :meth:`abandon` if the run never gets to :meth:`start`.
        """
        self._gate = self.samples_dir / GATE_FILE
        self._spawn_all(self.config, prepare_timeout)

    def start(self, target_url: str | None = None, *, rps: float | None = None) -> None:
        """Release (pre-spawned) or spawn the master and workers; return once the test started.

        ``target_url`` replaces the plan's (needed after :meth:`prespawn` with no target);
        ``rps`` replaces an open model's rate (a capacity step spawned before its rate
        was decided). Both reach the children through the start gate.
        """
        self.released = True
        if rps is not None:
            if self.plan.load.model != "open" or self.plan.load.stages:
                raise LoadError("only an open-model load without stages takes a new rate")
            load = self.plan.load.model_copy(update={"rps": rps})
            self.plan = dataclasses.replace(self.plan, load=load)
        if target_url is not None:
            self.plan = dataclasses.replace(self.plan, target_url=target_url)
        if target_url is not None or rps is not None:
            self.config = config_from_plan(self.plan)
        if not self.config.target_url:
            raise LoadError("the load has no target URL")
        try:
            if self._gate is None and self.remote_workers:
                self.prespawn()  # the driver, not Locust, waits for them: it can name them
            if self._gate is None:
                self._spawn_all(self.config, 0.0)
            else:
                if self.remote_workers:
                    self._wait_joined()
                go = Go(target_url=self.config.target_url, config_json=self.config.to_json())
                open_gate(self._gate, go)
            self._wait_started()
        except BaseException:
            self._children.terminate(timeout=5.0)
            self._children.close_logs()
            raise
        self._cpu.start()

    def abandon(self) -> None:
        """End pre-spawned children that were never released (the deploy failed)."""
        if self.released or self._result is not None:
            return
        try:
            self._children.terminate(timeout=5.0)
        finally:
            self._children.close_logs()
            self._port.release()

    def _spawn_all(self, cfg: LoadConfig, prepare_timeout: float) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port = self.master_port
        wait = max(START_TIMEOUT_S, self.plan.join_timeout)
        deadline = time.time() + prepare_timeout + wait + self.plan.total_seconds
        env, master_env = child_environments(self.plan, cfg, deadline, self._gate)
        try:
            self._children.spawn(
                master_command(
                    cfg,
                    port,
                    self.plan.workers,
                    self.master_bind_host,
                    wait_workers=wait,
                ),
                master_env,
                "master.log",
            )
            for i in range(self.plan.workers - self.remote_workers):
                self._children.spawn(worker_command("127.0.0.1", port), env, f"worker-{i}.log")
        except BaseException:
            self._children.terminate(timeout=5.0)
            self._children.close_logs()
            raise

    def roster(self) -> Roster:
        """The master's view of its workers (see :class:`RosterView`)."""
        return self._roster.read()

    def _wait_joined(self) -> None:
        """Wait (bounded) until every worker joined and its clock was measured."""

        def master_ended() -> str | None:
            master = self._children.master
            code = master.poll() if master is not None else None
            return how_it_ended(code) if code is not None else None

        wait = JoinWait(
            expected=self.plan.workers,
            timeout=self.plan.join_timeout,
            address=f"{self.master_bind_host}:{self.master_port}",
            master_log=self.log_dir / "master.log",
            read_roster=self.roster,
            master_ended=master_ended,
            explain_missing=self.explain_missing,
        )
        wait_joined(wait)

    def _wait_started(self) -> None:
        if not poll_until(self._started, START_TIMEOUT_S + 5, 0.1):
            raise LoadError(
                f"the load generator did not start within {START_TIMEOUT_S:.0f} s",
                hint=f"see the Locust logs in {self.log_dir}",
            )

    def _started(self) -> bool:
        """Whether the test started (its t0 read); LoadError when a child exited first."""
        marker = self.samples_dir / STARTED_MARKER
        if marker.exists():
            try:
                started = json.loads(marker.read_text())
                self._t0 = float(started["t0"])
                self._sending = sending_span(self.config.model, started, self.config.total_seconds)
                return True
            except (ValueError, KeyError):
                pass  # caught mid-write; try again
        for name, proc in self._children.named():
            if proc.poll() is not None:
                raise LoadError(
                    f"the load {name} exited with code {proc.returncode} before the test "
                    f"started:\n{log_tail(self.log_dir / f'{name}.log')}",
                    hint=f"fix the locustfile or the load settings; full logs in {self.log_dir}",
                )
        return False

    @property
    def schedule_t0(self) -> float | None:
        """Epoch time of the open model's schedule start (arrival k at k + ½ of the rate's
        integral after it); None until :meth:`start` returned."""
        return self._t0

    def running(self) -> bool:
        """True while the master and every worker run.

        The master ends the test after ``total_seconds``. A worker that dies
        mid-run would silently lower the load (Locust carries on with the
        others), so it counts as the load having stopped; see :meth:`stopped_child`.
        A worker on another host is lost when it stops sending heartbeats (about 3 s)
        or says it stopped while the test runs.
        """
        return (
            self._children.master is not None
            and self._result is None
            and self.stopped_child() is None
        )

    def stopped_child(self) -> str | None:
        """Which child process has ended, e.g. ``worker-1 (pid 42) was killed by SIGKILL``,
        or which remote worker was lost."""
        ended = self._children.first_ended()
        if ended is None and self.remote_workers and self._t0 is not None:
            ended = "; ".join(self.roster().lost()) or None
        return ended

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

    def finish_schedule(self, clock: Clock = REAL_CLOCK) -> bool:
        """Before :meth:`stop` (whose SIGTERM cuts the schedule short): wait until every
        worker's watermark passed the open schedule's end, at most the request timeout
        plus two flushes after it. False when that bound ran out; True once settled, at
        once for a closed model or when a child already ended (docs/load.md)."""
        if self.config.model != "open" or self._sending is None or self._result is not None:
            return True
        return wait_schedule_done(
            self.samples_dir,
            self.plan.workers,
            self._sending[1],
            self.config.timeout + 2 * FLUSH_INTERVAL_S,
            lambda: self.stopped_child() is not None,
            clock,
        )

    def live_watermark(self) -> float:
        """Epoch s before which every request any worker sent is in :meth:`live_samples`
        (-inf until every worker has reported): windows ending before it are complete."""
        return self._tail.complete_before

    def live_samples(self) -> list[tuple[int, float, bool]]:
        """Requests (start_us, latency_ms, ok) flushed since the last call (abort conditions).

        The first call starts the collection; call it once before :meth:`start`.
        """
        self._tail.keep_fresh = True
        self._tail.poll()
        return self._tail.drain()

    def stop(self, timeout: float = 30.0, *, reap_master: bool = True) -> LoadResult:
        """End the load (idempotent) and merge the chunks into ``samples.parquet``.

        ``reap_master=False`` returns without waiting for the master to exit (it
        writes no samples of local workers); the caller must then call :meth:`close`.
        Only for runs without remote workers, whose samples the master writes.
        """
        if self._result is not None:
            return self._result
        try:
            self._children.terminate(timeout, reap_master=reap_master or self.remote_workers > 0)
        finally:
            self._cpu.stop()
            self._children.close_logs()
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
            sending_from_wall=self._sending[0] if self._sending else None,
            sending_until_wall=self._sending[1] if self._sending else None,
        )
        return self._result

    def close(self, timeout: float = 10.0) -> None:
        """Wait for (then kill) a master that :meth:`stop` left exiting; idempotent."""
        self._children.close_master(timeout)
