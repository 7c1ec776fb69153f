"""The locustfile every hachaos Locust process loads (``locust -f .../locust_entry.py``).

Never imported by the orchestrator: importing Locust monkey-patches the whole
process. It exposes the workload's user classes (built-in or the user's own
locustfile from ``HACHAOS_LOCUSTFILE``), the open model's scheduler user, and
in the closed model with stages a load shape; the master picks the classes to
run by name on its command line. It also attaches the recorder.

Environment (set by the driver; a hand-started remote worker needs none):
``HACHAOS_SAMPLES_DIR`` write chunks here (else ship them to the master),
``HACHAOS_LOCUSTFILE`` the user's locustfile, ``HACHAOS_WORKLOAD=requests`` the
declarative requests of ``load.requests``, ``HACHAOS_SHAPE=1`` expose the
shape (master, closed model with stages), ``HACHAOS_DEADLINE`` epoch seconds
after which the process quits by itself, ``HACHAOS_PARENT_PID`` quit when that
parent is gone, ``HACHAOS_GATE`` (master of a pre-spawned load) hold before the
test until this file gives the target (harness.load.gate).
"""

from __future__ import annotations

import base64
import dataclasses
import importlib.util
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from locust import FastHttpUser, LoadTestShape, User, events, task
from locust.runners import MasterRunner

from harness.load.clock_sync import master_time
from harness.load.config import LoadConfig
from harness.load.gate import GATE_ENV, wait_gate
from harness.load.master_link import MasterLink, attach_worker
from harness.load.open_model import OpenModelScheduler
from harness.load.recorder import SHIP_MESSAGE, Recorder, receive_shipped
from harness.load.shape import arrival_times, build_profile, closed_users_at
from harness.load.worker import LOCUSTFILE_SOURCE_ENV, TARGET_ENV
from harness.load.workloads import consistency, declarative, reference
from harness.load.workloads.requests_config import EXTRA_REQUESTS

log = logging.getLogger("hachaos.load")

STARTED_MARKER = "started.json"
# Locust's master marks a worker missing after 3 heartbeats (1 s apart) and, when that was
# the last worker, stops the test with one INFO line: on a host that starves a worker of CPU
# for a few seconds the run went on with no load at all (seen: 8 minutes of a soak). Local
# workers are our own children, whose death the driver sees at once; a remote one that dies
# is seen after this many seconds.
HEARTBEAT_LIVENESS = 60
locust.runners.HEARTBEAT_LIVENESS = HEARTBEAT_LIVENESS
DEADLINE_MARGIN_S = 10.0
_samples_env = os.environ.get("HACHAOS_SAMPLES_DIR")
SAMPLES_DIR = Path(_samples_env) if _samples_env else None
# A placed worker (a Swarm task, a pod) reaches the target at its own address, e.g. the
# front service on the stack's network, instead of the master's view of it.
TARGET_OVERRIDE = os.environ.get(TARGET_ENV, "")


def _locustfile_path() -> str | None:
    """The user's locustfile: a path, or (placed workers) its source in the environment."""
    source = os.environ.get(LOCUSTFILE_SOURCE_ENV)
    if source:
        folder = Path(tempfile.mkdtemp(prefix="hachaos-locustfile-"))
        path = folder / "locustfile.py"
        path.write_bytes(base64.b64decode(source))
        os.environ["HACHAOS_LOCUSTFILE"] = str(path)
    return os.environ.get("HACHAOS_LOCUSTFILE") or None


def _load_user_classes() -> list[type[User]]:
    path = _locustfile_path()
    if not path:
        if os.environ.get("HACHAOS_WORKLOAD") == "requests":
            return [declarative.DeclarativeUser]
        return [reference.ReferenceUser]
    spec = importlib.util.spec_from_file_location("hachaos_user_locustfile", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import locustfile {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(Path(path).parent))
    spec.loader.exec_module(module)
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, User)
        and not getattr(v, "abstract", False)
        and v.__module__ == module.__name__
    ]
    if not found:
        raise ImportError(f"locustfile {path} defines no (non-abstract) User class")
    return found


# The master runs every user class it sees here, so it sees only those of its model;
# workers (which may not know the model when they start) see all of them.
EXPOSE = os.environ.get("HACHAOS_EXPOSE", "all")
WORKLOAD: list[type[User]] = _load_user_classes()
if EXPOSE in ("all", "closed"):
    globals().update({cls.__name__: cls for cls in WORKLOAD})
if EXPOSE == "all" and not os.environ.get("HACHAOS_LOCUSTFILE"):
    # a hand-started worker does not know the workload: the master's spawn message names it
    DeclarativeUser = declarative.DeclarativeUser


def workload_of(cfg: LoadConfig) -> list[type[User]]:
    """The user classes the open model drives: the config says whether requests are declared,
    and the consistency workload (checks.consistency) joins them with its share."""
    base: list[type[User]] = WORKLOAD
    if EXTRA_REQUESTS in cfg.extra and not os.environ.get("HACHAOS_LOCUSTFILE"):
        base = [declarative.DeclarativeUser]
    spec = consistency.ConsistencyUser.spec
    if spec is None:
        return base
    if spec.share >= 1:
        return [consistency.ConsistencyUser]
    others = sum(max(getattr(c, "weight", 1), 0) or 1 for c in base)
    consistency.ConsistencyUser.weight = others * spec.share / (1 - spec.share)  # type: ignore[assignment]
    return [*base, consistency.ConsistencyUser]


_state: dict[str, Any] = {
    "config": None,
    "recorder": None,
    "deadline": float(os.environ.get("HACHAOS_DEADLINE", "0") or 0),
}


def config_of(environment: Any) -> LoadConfig:
    """The run's LoadConfig, as the master passed it (workers get it in the spawn message)."""
    cached = _state["config"]
    if cached is None:
        cached = _state["config"] = LoadConfig.from_json(environment.parsed_options.hachaos_config)
    return cached  # type: ignore[no-any-return]


def _apply_timeout(cls: type[User], timeout: float) -> None:
    """Give FastHttpUser classes the scenario's client timeout unless they chose their own."""
    if not issubclass(cls, FastHttpUser):
        return
    own = any(
        "network_timeout" in vars(k)
        for k in cls.__mro__
        if k is not FastHttpUser and isinstance(k, type) and issubclass(k, FastHttpUser)
    )
    if cls in (reference.ReferenceUser, declarative.DeclarativeUser) or not own:
        cls.network_timeout = timeout
        cls.connection_timeout = timeout


class HachaosOpenModel(User):
    """One per worker: drives that worker's share of the open model's arrivals."""

    hachaos_untracked = True  # its one task runs all along; each arrival is counted instead

    @task
    def drive(self) -> None:
        env = self.environment
        if _state.get("driving"):
            # Locust re-spawns users when a worker goes missing: this process's share is
            # already being sent (the run stops on the lost worker), never twice.
            while True:
                gevent.sleep(3600)
        _state["driving"] = True
        cfg = config_of(env)
        t0 = float(env.parsed_options.hachaos_t0)
        workers = max(int(env.parsed_options.hachaos_workers), 1)
        index = max(int(getattr(env.runner, "worker_index", 0)), 0) % workers
        profile = build_profile(cfg.rps or 0.0, cfg.stages, cfg.total_seconds)
        scheduler = OpenModelScheduler(
            env, workload_of(cfg), _state["recorder"], cfg.in_flight_cap(), cfg.seed * 1000 + index
        )
        offsets = arrival_times(profile, index, workers, cfg.arrivals, cfg.seed)
        when = (t0 + off for off in offsets)
        scheduler.run(when, t0 + cfg.total_seconds)
        log.info("hachaos: worker %d sent %d, dropped %d", index, scheduler.sent, scheduler.dropped)
        while True:  # the schedule is done; idle until the master stops the test
            gevent.sleep(3600)


if EXPOSE not in ("all", "open"):
    del HachaosOpenModel


if os.environ.get("HACHAOS_SHAPE") == "1":

    class HachaosShape(LoadTestShape):
        """Closed model with stages: the user count follows the stage profile."""

        def tick(self) -> tuple[int, float] | None:
            assert self.runner is not None
            cfg = config_of(self.runner.environment)
            t = float(self.get_run_time())  # type: ignore[no-untyped-call]
            if t >= cfg.total_seconds:
                return None
            profile = build_profile(float(cfg.users or 0), cfg.stages, cfg.total_seconds)
            users = closed_users_at(profile, t)
            return users, max(cfg.spawn_rate, float(users))


def _arguments(parser: Any) -> None:
    parser.add_argument("--hachaos-config", default="", help="hachaos LoadConfig (JSON)")
    parser.add_argument("--hachaos-t0", type=float, default=0.0, help="open model start (epoch)")
    parser.add_argument("--hachaos-workers", type=int, default=0, help="workers sharing the load")


def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        if SAMPLES_DIR is not None:
            link = _state["link"] = MasterLink(environment, SAMPLES_DIR)

            def shipped(msg: Any, **kw: Any) -> None:
                receive_shipped(SAMPLES_DIR, msg, **kw)
                link.note_shipped(msg.node_id, msg.data)

            runner.register_message(SHIP_MESSAGE, shipped)
    elif runner is not None:
        _state["recorder"] = Recorder(environment, SAMPLES_DIR)
        attach_worker(environment, local=SAMPLES_DIR is not None)
    gevent.spawn(_watchdog, environment)
    gate = os.environ.get(GATE_ENV)
    if gate and isinstance(runner, MasterRunner):
        _hold_at_gate(environment, Path(gate))


def _hold_at_gate(environment: Any, gate: Path) -> None:
    """Pre-spawned master: wait (workers keep connecting) for the target, then adopt it.

    Runs before Locust's headless start, so neither ``--run-time`` nor the wait for
    workers counts the time spent here; workers get host and settings in the spawn message.
    """
    deadline = _state["deadline"] or time.time() + 3600.0
    go = wait_gate(gate, deadline=deadline, sleep=gevent.sleep)
    if go is None:
        log.warning("hachaos: the start gate never opened; quitting")
        os._exit(1)
    environment.host = go.target_url
    environment.parsed_options.host = go.target_url
    environment.parsed_options.hachaos_config = go.config_json
    _state["config"] = None  # parsed again from the new settings


def _on_test_start(environment: Any, **_: Any) -> None:
    runner = environment.runner
    cfg = config_of(environment)
    if isinstance(runner, MasterRunner):
        # Workers get these in the spawn message sent right after this event.
        started = time.time()
        t0 = started + 0.5
        _extend_deadline(t0 + cfg.total_seconds)
        environment.parsed_options.hachaos_t0 = t0
        environment.parsed_options.hachaos_workers = max(runner.worker_count, 1)
        if SAMPLES_DIR is not None:
            SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
            marker = {"t0": t0, "started": started, "workers": runner.worker_count}
            (SAMPLES_DIR / STARTED_MARKER).write_text(json.dumps(marker))
        return
    if TARGET_OVERRIDE:
        environment.host = TARGET_OVERRIDE
        cfg = _state["config"] = dataclasses.replace(cfg, target_url=TARGET_OVERRIDE)
    _extend_deadline(float(environment.parsed_options.hachaos_t0) + cfg.total_seconds)
    reference.ReferenceUser.configure(cfg)
    declarative.DeclarativeUser.configure(cfg)
    index = max(int(getattr(runner, "worker_index", 0) or 0), 0)
    worker = f"w{index}"
    t0 = float(environment.parsed_options.hachaos_t0)
    if consistency.ConsistencyUser.configure(cfg, t0, index, worker):
        consistency.HISTORY.start(SAMPLES_DIR, worker)
    for cls in WORKLOAD:
        _apply_timeout(cls, cfg.timeout)
    recorder = _state["recorder"]
    if recorder is not None:
        recorder.start()


def _flush(**_: Any) -> None:
    recorder = _state["recorder"]
    if recorder is not None:
        recorder.flush()
    consistency.HISTORY.flush()


# Locust's event hooks are untyped; register in one place.
for _hook, _listener in (
    (events.init_command_line_parser, _arguments),
    (events.init, _on_init),
    (events.test_start, _on_test_start),
    (events.test_stop, _flush),
    (events.quitting, _flush),
):
    _hook.add_listener(_listener)  # type: ignore[no-untyped-call]


def _extend_deadline(planned_end: float) -> None:
    """Once the test runs, quit a margin after its planned end (driver-started processes only)."""
    if _state["deadline"]:
        _state["deadline"] = planned_end + DEADLINE_MARGIN_S


def _watchdog(environment: Any) -> None:
    """Quit by itself after the deadline or when the driver is gone, so no child outlives a run."""
    parent = int(os.environ.get("HACHAOS_PARENT_PID", "0") or 0)
    if not _state["deadline"] and not parent:
        return
    while True:
        gevent.sleep(0.5)
        deadline = _state["deadline"]
        orphaned = parent and os.getppid() != parent
        if (deadline and master_time() > deadline) or orphaned:
            log.warning("hachaos: %s; quitting", "driver gone" if orphaned else "deadline passed")
            _flush()
            if environment.runner is not None:
                environment.runner.quit()
            gevent.sleep(2.0)
            _flush()
            os._exit(0)
