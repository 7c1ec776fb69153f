"""Kill `hachaos run` at chosen moments, clean up, and compare the machine with before.

One kill point: snapshot the machine, start ``python -m harness.cli run`` in its
own session, wait for the chosen stage (stages.py) plus a seeded offset, SIGKILL
it, run ``hachaos cleanup`` (SIGKILLing that too mid-way when the point says so,
then running it again), run cleanup once more (it must be idempotent: exit 0),
wait for the run's orphans (Locust, compose) to end, snapshot again and diff.
``run_batch`` runs a few points at once between one pair of snapshots.

Every run uses a private ``XDG_STATE_HOME`` and a compose project named with the
driver's unique prefix, so cleanup never sees another user's journals and the
``--scope-own`` diff can attribute what it finds. After the diff, the driver
removes what its own point left (compose project, helpers, processes), so one
point's leftovers do not hide in the next one's "before".
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from harness.engine.swarm.lifecycle import DockerSwarmOps, leave_if_ours
from harness.engine.swarm.names import CREATED_BY
from harness.engine.swarm.names import NAMESPACE as STACK_NAMESPACE
from tests.selfchaos import snapshot
from tests.selfchaos.plan import OFFSETS, SCENARIO_DIR, KillPoint
from tests.selfchaos.stages import Watcher, wait_for

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 240.0  # s: the longest a scenario here may take before it is called stuck
CLEANUP_TIMEOUT = 300.0
ORPHAN_GRACE = 15.0  # s: Locust quits within ~3 s of its driver dying (watchdog)


@dataclass
class Session:
    """State shared by the kill points of one driver invocation."""

    work: Path  # scratch root: out folders, state dir, stdout files
    prefix: str  # unique prefix of compose projects ("scx" + hex)
    own_only: bool = False
    swarm: bool = False  # Swarm points: the caller holds SWARM_LOCK for the whole session
    python: str = sys.executable
    counter: int = 0
    journal_tags: set[str] = field(default_factory=set)

    @property
    def state_home(self) -> Path:
        return self.work / "state"

    def env(self) -> dict[str, str]:
        return {**os.environ, "XDG_STATE_HOME": str(self.state_home), "PYTHONUNBUFFERED": "1"}

    def next_project(self) -> str:
        self.counter += 1
        return f"{self.prefix}-{self.counter:02d}"

    def scope(self) -> snapshot.Scope:
        return snapshot.Scope(
            own_only=self.own_only,
            prefix=self.prefix,
            tags=frozenset(self.journal_tags),
            swarm=self.swarm,
        )


# ---------------------------------------------------------------------- processes
def start_run(
    s: Session, scenario: str, project: str, out: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    """`hachaos run` in its own session, stdout to a file the watcher tails."""
    out.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [
                s.python,
                "-m",
                "harness.cli",
                "run",
                str(SCENARIO_DIR / f"{scenario}.yaml"),
                "--quiet",
                "--out",
                str(out),
                "--project",
                project,
            ],
            cwd=ROOT,
            env=s.env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return proc, log


def run_cleanup(s: Session, kill_after: float | None) -> dict[str, Any]:
    """One `hachaos cleanup`; SIGKILLed after ``kill_after`` s when given and still running."""
    t = time.monotonic()
    proc = subprocess.Popen(
        [s.python, "-m", "harness.cli", "cleanup"],
        cwd=ROOT,
        env=s.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    killed = False
    try:
        out, _ = proc.communicate(timeout=kill_after if kill_after is not None else CLEANUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        killed = kill_after is not None
        proc.kill()
        out, _ = proc.communicate(timeout=30)
    text = out.decode(errors="replace").strip()
    return {
        "rc": proc.returncode,
        "seconds": round(time.monotonic() - t, 3),
        "killed": killed,
        "output": text[-2000:],
    }


def related_processes(s: Session, marks: list[str]) -> list[psutil.Process]:
    """Live processes whose command line or environment names one of ``marks``."""
    found: list[psutil.Process] = []
    me = os.getpid()
    for p in psutil.process_iter(["pid", "cmdline"]):
        if p.pid == me:
            continue
        try:
            text = " ".join(p.info["cmdline"] or [])
            if not any(m in text for m in marks):
                env = p.environ()
                text = env.get("HACHAOS_SAMPLES_DIR", "") + " " + env.get("XDG_STATE_HOME", "")
                if not any(m in text for m in marks):
                    continue
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            found.append(p)
        except psutil.Error:
            continue
    return found


def wait_orphans(s: Session, marks: list[str], grace: float = ORPHAN_GRACE) -> list[str]:
    """Processes of a run still alive after ``grace`` s, described."""
    deadline = time.monotonic() + grace
    procs = related_processes(s, marks)
    while procs and time.monotonic() < deadline:
        time.sleep(0.5)
        procs = related_processes(s, marks)
    out = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            out.append(f"process {p.pid} still alive: {' '.join(p.cmdline())[:160]}")
    return out


def kill_processes(s: Session, marks: list[str]) -> None:
    for p in related_processes(s, marks):
        with contextlib.suppress(psutil.Error):
            p.kill()


# ---------------------------------------------------------------------- journals
def journal_state(s: Session) -> tuple[list[str], set[str]]:
    """Journals in the driver's state folder that still claim something is applied, and tags."""
    folder = s.state_home / "hachaos" / "journal"
    problems: list[str] = []
    tags: set[str] = set()
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        pending: dict[int, str] = {}
        closed = False
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            op = e.get("op")
            if op == "intent":
                pending[int(e["seq"])] = f"{e.get('key')} ({e.get('type')})"
                tag = (e.get("state") or {}).get("tag")
                if tag:
                    tags.add(str(tag))
                closed = False
            elif op == "reverted":
                pending.pop(int(e["seq"]), None)
            elif op == "closed":
                closed = True
                pending.clear()
        if pending:
            problems.append(f"journal {path.name}: still pending {', '.join(pending.values())}")
        elif not closed and _has_intent(path):
            problems.append(f"journal {path.name}: not closed")
    return problems, tags


def _has_intent(path: Path) -> bool:
    return '"op":"intent"' in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------- restoring
def restore(s: Session, project: str, marks: list[str]) -> None:
    """Remove what one point left (its compose or Swarm stack, its helpers, its processes)."""
    kill_processes(s, marks)
    subprocess.run(
        ["docker", "compose", "-p", project, "down", "-v", "--remove-orphans", "--timeout", "1"],
        capture_output=True,
        check=False,
        timeout=180,
    )
    if s.swarm:
        _restore_swarm(s, project)
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.hachaos.project={project}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False, timeout=120)


def _restore_swarm(s: Session, project: str) -> None:
    """The point's Swarm stack and its volumes; then the swarm, if one of the driver's runs
    created it (its node label names the run) and nothing runs on it any more."""
    docker = ["docker"]
    subprocess.run([*docker, "stack", "rm", project], capture_output=True, check=False, timeout=120)
    volumes = subprocess.run(
        [*docker, "volume", "ls", "-q", "--filter", f"label={STACK_NAMESPACE}={project}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout.split()
    for _ in range(20):  # a stack's volumes are busy until its task containers are gone
        if (
            not volumes
            or subprocess.run(
                [*docker, "volume", "rm", *volumes], capture_output=True, check=False, timeout=60
            ).returncode
            == 0
        ):
            break
        time.sleep(1.0)
    ops = DockerSwarmOps()
    creator = ops.node_labels().get(CREATED_BY, "") if ops.state() == "active" else ""
    if s.prefix in creator:
        leave_if_ours(ops, creator)


# ---------------------------------------------------------------------- kill points
@dataclass
class _Live:
    """One kill point in flight."""

    index: int
    kp: KillPoint
    project: str
    out: Path
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def marks(self) -> list[str]:
        return [str(self.out), self.project]


def run_batch(s: Session, points: list[tuple[int, KillPoint]]) -> list[dict[str, Any]]:
    """Run several kill points at once, between one pair of snapshots.

    Each run is killed at its own moment by its own thread; then cleanup runs (it
    serves every dead run of the batch) and the machine is compared once. A
    leftover that names a point's project goes to that point; one that names none
    of them (an image, a cleanup error) goes to every point of the batch.
    """
    rng = random.Random(f"{points[0][1].seed}:{points[0][0]}")
    live = [_Live(i, kp, s.next_project(), Path()) for i, kp in points]
    for lv in live:
        lv.out = s.work / f"out-{lv.project}"
        lv.record = {**lv.kp.to_json(), "index": lv.index, "project": lv.project}
    before = snapshot.take()
    threads = [threading.Thread(target=_kill_at_stage, args=(s, lv), daemon=True) for lv in live]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=RUN_TIMEOUT + 120)
    marks = [m for lv in live for m in lv.marks]
    cleanup_kills = max(lv.kp.cleanup_kills for lv in live)
    shared = cleanup_and_compare(s, before, [lv.project for lv in live], marks, rng, cleanup_kills)
    for lv in live:
        others = [o.project for o in live if o is not lv]
        mine = [
            x for x in shared["leftovers"] if lv.project in x or not any(o in x for o in others)
        ]
        lv.record.update({**shared, "leftovers": mine, "batch": [o.project for o in live]})
        log = lv.out.with_suffix(".log")
        lv.record["run_log_tail"] = _tail(log) if mine or lv.record.get("missed") else ""
    for lv in live:
        restore(s, lv.project, lv.marks)
    return [lv.record for lv in live]


def _kill_at_stage(s: Session, lv: _Live) -> None:
    """Start one run, wait for its stage plus the offset, SIGKILL it."""
    kp = lv.kp
    t_start = time.monotonic()
    proc, log = start_run(s, kp.scenario, lv.project, lv.out)
    watcher = Watcher(proc.pid, lv.out, log)
    reached: str | None
    if kp.stage == "random":
        deadline = t_start + kp.offset
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        reached = "random" if proc.poll() is None else None
    else:
        reached = wait_for(watcher, kp.stage, alive=psutil.Process(proc.pid), timeout=RUN_TIMEOUT)
        if reached is not None:
            time.sleep(kp.offset)
    stage_at_kill = watcher.stage() if proc.poll() is None else "exited"
    kill_at = time.monotonic() - t_start
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=60)
    lv.record.update(
        reached=reached,
        observed_stage=stage_at_kill,
        kill_at=round(kill_at, 3),
        run_rc=proc.returncode,
        missed=stage_at_kill == "exited",
    )


def cleanup_and_compare(
    s: Session,
    before: snapshot.Snapshot,
    projects: list[str],
    marks: list[str],
    rng: random.Random,
    cleanup_kills: int,
) -> dict[str, Any]:
    """Cleanup (killed ``cleanup_kills`` times first), an idempotence rerun, then the diff."""
    runs: list[dict[str, Any]] = []
    for _ in range(cleanup_kills):
        runs.append(run_cleanup(s, kill_after=round(rng.uniform(0.3, 2.0), 3)))
    final = run_cleanup(s, kill_after=None)
    runs.append(final)
    again = run_cleanup(s, kill_after=None)
    leftovers: list[str] = []
    if final["rc"] != 0:
        leftovers.append(f"cleanup exit {final['rc']}: {final['output'][-400:]}")
    if again["rc"] != 0:
        leftovers.append(f"second cleanup exit {again['rc']}: {again['output'][-400:]}")
    leftovers += wait_orphans(s, marks)
    problems, tags = journal_state(s)
    s.journal_tags |= tags
    leftovers += [p for p in problems if any(x in p for x in projects)]
    after = snapshot.take()
    d = snapshot.diff(before, after, s.scope())
    leftovers += d.leftovers
    return {
        "cleanup_runs": runs,
        "cleanup_again": again,
        "cleanup_seconds": final["seconds"],
        "leftovers": leftovers,
        "ignored": d.ignored[:50],
    }


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------- special cases
def two_runs_one_killed(s: Session, seed: int) -> dict[str, Any]:
    """Runs A (kill) and B (pause) at once; A is SIGKILLed while its fault holds and
    cleanup runs while B is still running. B must end as if alone: exit 0,
    run.end completed, its fault applied and reverted, and nothing left."""
    rng = random.Random(f"{seed}:two-runs")
    pa, pb = s.next_project(), s.next_project()
    oa, ob = s.work / f"out-{pa}", s.work / f"out-{pb}"
    marks = [str(oa), pa, str(ob), pb]
    before = snapshot.take()
    a, la = start_run(s, "ha-kill", pa, oa)
    b, _lb = start_run(s, "ha-pause", pb, ob)
    wa = Watcher(a.pid, oa, la)
    record: dict[str, Any] = {
        "seed": seed,
        "scenario": "ha-kill + ha-pause",
        "fault": "kill+pause",
        "stack": "web-ha",
        "stage": "two-runs",
        "project": f"{pa} {pb}",
        "cleanup_kills": 0,
    }
    reached = wait_for(wa, "active", alive=psutil.Process(a.pid), timeout=RUN_TIMEOUT)
    offset = round(rng.uniform(*OFFSETS["active"]), 3)
    if reached is not None:
        time.sleep(offset)
    record.update(observed_stage=wa.stage() if a.poll() is None else "exited", offset=offset)
    a.kill()
    a.wait(timeout=60)
    during = run_cleanup(s, kill_after=None)  # B is alive: cleanup must leave it alone
    try:
        b_rc = b.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        b.kill()
        b_rc = b.wait(timeout=60)
    survivor = _survivor_problems(ob, b_rc)
    record.update(_cleanup_fields(s, before, pa, marks, rng))
    record["leftovers"] = survivor + record["leftovers"]
    record["cleanup_during_b"] = during
    restore(s, pa, marks)
    restore(s, pb, marks)
    return record


def _survivor_problems(out: Path, rc: int) -> list[str]:
    problems: list[str] = []
    if rc != 0:
        problems.append(f"survivor exit {rc} (expected 0)")
    runs = [p for p in out.glob("*/*") if p.is_dir()]
    if not runs:
        return [*problems, "survivor wrote no run folder"]
    events = [
        json.loads(x)
        for x in (runs[0] / "events.jsonl").read_text().splitlines()
        if x.strip().startswith("{")
    ]
    kinds = [(e["kind"], e.get("ok")) for e in events if e["kind"].startswith("fault.")]
    if kinds != [("fault.apply", True), ("fault.revert", True)]:
        problems.append(f"survivor fault events {kinds} (expected one ok apply and revert)")
    end = [e for e in events if e["kind"] == "run.end"]
    if not end or end[-1].get("outcome") != "completed":
        problems.append(f"survivor run.end {end[-1] if end else None} (expected completed)")
    return problems


def _cleanup_fields(
    s: Session, before: snapshot.Snapshot, project: str, marks: list[str], rng: random.Random
) -> dict[str, Any]:
    fields = cleanup_and_compare(s, before, [project], marks, rng, 0)
    fields["missed"] = False
    return fields


def worker_killed(s: Session, seed: int) -> dict[str, Any]:
    """A Locust worker is SIGKILLed while a fault holds: the run must end with exit 3
    (data kept, faults reverted) and cleanup leave nothing."""
    rng = random.Random(f"{seed}:worker")
    project = s.next_project()
    out = s.work / f"out-{project}"
    marks = [str(out), project]
    before = snapshot.take()
    proc, log = start_run(s, "ha-kill", project, out)
    watcher = Watcher(proc.pid, out, log)
    reached = wait_for(watcher, "active", alive=psutil.Process(proc.pid), timeout=RUN_TIMEOUT)
    offset = round(rng.uniform(*OFFSETS["active"]), 3)
    if reached is not None:
        time.sleep(offset)
    stage = watcher.stage() if proc.poll() is None else "exited"
    workers = [p for p in related_processes(s, [str(out)]) if "--worker" in " ".join(p.cmdline())]
    for w in workers:
        with contextlib.suppress(psutil.Error):
            w.kill()
    try:
        rc = proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait(timeout=60)
    record: dict[str, Any] = {
        "seed": seed,
        "scenario": "ha-kill",
        "fault": "kill",
        "stack": "web-ha",
        "stage": "locust-worker-killed",
        "project": project,
        "observed_stage": stage,
        "offset": offset,
        "cleanup_kills": 0,
        "workers_killed": len(workers),
        "run_rc": rc,
    }
    record.update(_cleanup_fields(s, before, project, marks, rng))
    if not workers:
        record["leftovers"].insert(0, "no Locust worker found to kill")
    if rc != 3:
        record["leftovers"].insert(0, f"run exit {rc} after a worker died (expected 3)")
    record["run_log_tail"] = _tail(log)
    restore(s, project, marks)
    return record


def engine_restart(s: Session, seed: int) -> dict[str, Any]:
    """dockerd restarted while a fault holds: the run must exit 3 and cleanup leave nothing.

    Restarts the shared engine: run it only on a machine of your own
    (``--engine-restart``). dockerd is stopped with SIGTERM through its pid file and
    started again by scripts/ensure-docker (which removes a stale pid file).
    Containers of others without a restart policy stop with the engine and show up
    as changed in a strict diff: that is the engine restart, not hachaos.
    """
    rng = random.Random(f"{seed}:engine")
    project = s.next_project()
    out = s.work / f"out-{project}"
    marks = [str(out), project]
    before = snapshot.take()
    proc, log = start_run(s, "ha-kill", project, out)
    watcher = Watcher(proc.pid, out, log)
    reached = wait_for(watcher, "active", alive=psutil.Process(proc.pid), timeout=RUN_TIMEOUT)
    offset = round(rng.uniform(*OFFSETS["active"]), 3)
    if reached is not None:
        time.sleep(offset)
    stage = watcher.stage() if proc.poll() is None else "exited"
    restart_seconds = _restart_dockerd()
    try:
        rc = proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait(timeout=60)
    record: dict[str, Any] = {
        "seed": seed,
        "scenario": "ha-kill",
        "fault": "kill",
        "stack": "web-ha",
        "stage": "engine-restart",
        "project": project,
        "observed_stage": stage,
        "offset": offset,
        "cleanup_kills": 0,
        "engine_restart_seconds": restart_seconds,
        "run_rc": rc,
    }
    # Containers with `restart: always` come back with the engine, with new state;
    # netns rules of containers that restarted are compared with a clean netns.
    record.update(_cleanup_fields(s, before, project, marks, rng))
    if rc != 3:
        record["leftovers"].insert(0, f"run exit {rc} after an engine restart (expected 3)")
    record["run_log_tail"] = _tail(log)
    restore(s, project, marks)
    return record


def _restart_dockerd() -> float:
    t = time.monotonic()
    pid = int(Path("/var/run/docker.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 90
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker")], check=True, timeout=180)
    return round(time.monotonic() - t, 1)
