"""Accuracy benchmark: hachaos's numbers against an independent prober, plus its fixed overhead.

For each case in benchmarks/scenarios/ this script
1. times a bare ``docker compose up --detach --wait`` + ``down`` of the case's stack;
2. starts ``hachaos run`` on the case and, once run.json gives the run's target and t0,
   runs its own prober against that 127.0.0.1 port until the run's end;
3. compares availability, outage span and time to recover from hachaos's summary.json
   with the prober's, computed here from the prober's own timeline with the definitions
   of docs/metrics.md, re-implemented (this file imports nothing from ``harness``);
4. splits hachaos's wall time minus the scenario's length into deploy, ready, teardown
   and report, from run.json, the engine's events and the process's wall time.

It writes bench/results/<UTC date-time>.json (with a machine description); the tables
in docs/performance.md are regenerated from it by benchmarks/perf_tables.py.

usage: .venv/bin/python benchmarks/accuracy.py [case ...]   (case = scenario file stem)
"""

from __future__ import annotations

import bisect
import http.client
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "benchmarks" / "scenarios"
RESULTS = ROOT / "bench" / "results"

PROBE_RPS = 50.0  # the prober's own open-model rate (hachaos runs 50 req/s too)
PROBE_TIMEOUT = 2.0  # s, as the scenarios' load.timeout
PROBE_WORKERS = 256  # > rate x timeout, so a slow request never delays the next start
GOAL_AVAILABILITY_PP = 1.0
GOAL_OUTAGE_S = 0.3
GOAL_OVERHEAD_RATIO = 1.2
RUN_TIMEOUT = 400.0  # s, per hachaos run


# ---------------------------------------------------------------------------- prober
@dataclass(frozen=True)
class Probe:
    """One request of the prober: actual start (epoch s), its lag, success, latency."""

    start: float
    lag: float
    ok: bool
    latency: float


def probe_once(host: str, port: int, timeout: float) -> tuple[bool, float]:
    """GET / on a fresh connection; success = HTTP 2xx/3xx within ``timeout``."""
    t = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        resp.read()
        ok = 200 <= resp.status < 400
    except (OSError, http.client.HTTPException):
        ok = False
    finally:
        conn.close()
    return ok, time.monotonic() - t


def run_prober(host: str, port: int, until_wall: float, rate: float = PROBE_RPS) -> list[Probe]:
    """Open model: request i is due at start + i/rate, whatever earlier requests do."""
    if host != "127.0.0.1":
        raise SystemExit(f"the prober targets only 127.0.0.1, not {host}")
    probes: list[Probe] = []
    lock = threading.Lock()
    wall0, mono0 = time.time(), time.monotonic()

    def one(due_mono: float) -> None:
        started_mono = time.monotonic()
        ok, latency = probe_once(host, port, PROBE_TIMEOUT)
        with lock:
            probes.append(
                Probe(wall0 + (started_mono - mono0), started_mono - due_mono, ok, latency)
            )

    n_max = int((until_wall - wall0) * rate) + 1
    with ThreadPoolExecutor(max_workers=PROBE_WORKERS, thread_name_prefix="probe") as pool:
        for i in range(max(0, min(n_max, 100_000))):  # bounded: at most 2000 s at 50/s
            due = mono0 + i / rate
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(one, due)
    return sorted(probes, key=lambda p: p.start)


# ---------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class Measured:
    availability: float | None
    outage_s: float
    ttr_s: float | None
    requests: int


def prober_metrics(
    t: list[float],
    ok: list[bool],
    end_s: float,
    injected_s: float,
    recovery_from_s: float,
    window_end_s: float,
    w: float,
    slo: float,
) -> Measured:
    """docs/metrics.md, written from the text: t = start time since t0, sorted."""
    keep = [i for i, x in enumerate(t) if 0.0 <= x < end_s]
    t = [t[i] for i in keep]
    ok = [ok[i] for i in keep]
    n = len(t)
    availability = (sum(ok) / n) if n else None

    # time to recover: first candidate start s in {from} + {t_i >= from} whose window
    # [s, s + w) ends by end_s, holds >= 1 request and has ok/requests >= slo
    ttr: float | None = None
    candidates = [recovery_from_s] + [x for x in t if x >= recovery_from_s]
    for s in candidates:
        if s + w > end_s + 1e-9:
            break
        lo, hi = bisect.bisect_left(t, s), bisect.bisect_left(t, s + w)
        if hi > lo and sum(ok[lo:hi]) >= slo * (hi - lo) - 1e-9:
            ttr = s - recovery_from_s
            break
    impact_end = end_s if ttr is None else max(recovery_from_s + ttr, window_end_s)

    # outage (docs/metrics.md): from a failure to the first later success s after which
    # the service is back (more successes than failures started in [s, s + 1 s), s
    # included); failures before that belong to it; one never back spans to its last
    # failure. The longest that starts in [injection, impact end) or is under way at
    # injection.
    def back(k: int) -> bool:
        hi = bisect.bisect_left(t, t[k] + 1.0)
        good = sum(ok[k:hi])
        return ok[k] and good > (hi - k) - good

    outage, i = 0.0, 0
    while i < n:
        if ok[i]:
            i += 1
            continue
        j = i + 1
        while j < n and not back(j):
            j += 1
        span_end = t[j] if j < n else max(t[k] for k in range(i, n) if not ok[k])
        if t[i] < impact_end and (t[i] >= injected_s or span_end > injected_s):
            outage = max(outage, span_end - t[i])
        i = j
    return Measured(availability, outage, ttr, n)


def failure_runs(t: list[float], ok: list[bool]) -> list[list[float]]:
    """[start, span] of every run of consecutive failures (for reading a miss by eye)."""
    out, i = [], 0
    while i < len(t):
        if ok[i]:
            i += 1
            continue
        j = i
        while j < len(t) and not ok[j]:
            j += 1
        out.append([round(t[i], 3), round((t[j] if j < len(t) else t[j - 1]) - t[i], 3)])
        i = j
    return out[:50]


def _hachaos_failure_runs(run_dir: Path, t0_wall: float) -> list[list[float]]:
    """hachaos's own failure runs, read from its raw samples (for reading a miss by eye)."""
    import pyarrow.parquet as pq  # only here: the prober itself needs no third-party code

    rows = pq.read_table(run_dir / "samples.parquet", columns=["start_us", "outcome"]).to_pylist()
    pairs = sorted(
        (r["start_us"] / 1e6 - t0_wall, r["outcome"] == "ok")
        for r in rows
        if r["outcome"] != "dropped" and r["start_us"] is not None
    )
    pairs = [(t, ok) for t, ok in pairs if t >= 0]
    return failure_runs([t for t, _ in pairs], [ok for _, ok in pairs])


# ---------------------------------------------------------------------------- helpers
def sh(*args: str, timeout: float = 300.0, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True, env=env)
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, Any]:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "engine": sh("docker", "version", "--format", "{{.Server.Version}}"),
        "compose": sh("docker", "compose", "version", "--short"),
        "python": platform.python_version(),
        "loadavg_start": list(os.getloadavg()),
    }


def bare_compose(compose: Path) -> dict[str, float]:
    """``docker compose up --detach --wait`` + ``down`` (same flags as hachaos's teardown)."""
    project = f"accbare-{secrets.token_hex(3)}"
    env = {**os.environ, "HACHAOS_PORT": str(free_port()), "HACHAOS_PROJECT": project}
    base = ["docker", "compose", "-f", str(compose), "-p", project]
    t0 = time.monotonic()
    try:
        sh(*base, "up", "--detach", "--wait", "--wait-timeout", "120", env=env)
        t1 = time.monotonic()
    finally:
        t_down = time.monotonic()
        sh(*base, "down", "--volumes", "--remove-orphans", "--timeout", "3", env=env)
    t2 = time.monotonic()
    return {"up_s": t1 - t0, "down_s": t2 - t_down, "total_s": (t1 - t0) + (t2 - t_down)}


class EngineEvents:
    """``docker events`` streamed while the case runs (the engine keeps only a short backlog)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["docker", "events", "--filter", "type=container", "--format", "{{json .}}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=10)

    def of_project(self, project: str) -> list[dict[str, Any]]:
        self.close()
        out = []
        for line in self.lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("Actor", {}).get("Attributes", {}).get(LABEL) == project:
                out.append(e)
        return out


LABEL = "com.docker.compose.project"


def wait_for_t0(out_root: Path, proc: subprocess.Popen[str]) -> tuple[Path, dict[str, Any]]:
    """The run folder and run.json once the run has its target and t0 (load started)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        for meta_path in out_root.glob("*/*/run.json"):
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                continue  # written atomically, but be safe
            if meta.get("t0_wall") and meta.get("target_url"):
                return meta_path.parent, meta
        if proc.poll() is not None:
            said = proc.stdout.read() if proc.stdout else ""
            tail = " | ".join(said.strip().splitlines()[-6:])
            raise RuntimeError(
                f"hachaos exited ({proc.returncode}) before the load started: {tail}"
            )
        time.sleep(0.02)
    raise RuntimeError("hachaos did not start its load in time")


# ---------------------------------------------------------------------------- one case
def run_case(scenario: Path) -> dict[str, Any]:
    stack_compose = {
        "web-single": ROOT / "compose/web-single/compose.yaml",
        "web-ha": ROOT / "compose/web-ha/compose.yaml",
    }["web-ha" if scenario.stem.startswith("ha-") else "web-single"]
    bare = bare_compose(stack_compose)

    with tempfile.TemporaryDirectory(prefix="hachaos-acc-") as tmp:
        out_root = Path(tmp) / "runs"
        env = {**os.environ, "XDG_STATE_HOME": str(Path(tmp) / "state")}
        cmd = [sys.executable, "-m", "harness.cli", "run", str(scenario), "--out", str(out_root)]
        watch = EngineEvents()
        wall_start = time.time()
        proc = subprocess.Popen(
            [*cmd, "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            run_dir, meta = wait_for_t0(out_root, proc)
            url = meta["target_url"]
            host, port = url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
            t0 = float(meta["t0_wall"])
            end_wall = t0 + float(meta["duration"]) + float(meta["cooldown"])
            probes = run_prober(host, int(port), end_wall)
            log, _ = proc.communicate(timeout=RUN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.terminate()  # hachaos reverts and tears down on SIGTERM
                proc.wait(timeout=120)
            watch.close()
        wall_end = time.time()
        summary = json.loads((run_dir / "summary.json").read_text())
        meta = json.loads((run_dir / "run.json").read_text())
        scen = json.loads((run_dir / "scenario.json").read_text())
        events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
        engine = watch.of_project(meta["project"])
        theirs_runs = _hachaos_failure_runs(run_dir, float(meta["t0_wall"]))

    # the prober's view, from its own timeline and the run's fault events
    apply = next(e for e in events if e["kind"] == "fault.apply")
    revert = next(e for e in events if e["kind"] == "fault.revert")
    inj, rev = apply["wall_start"] - t0, revert["wall_start"] - t0
    rec = scen["checks"]["recovery"]
    end_s = float(meta["duration"]) + float(meta["cooldown"])
    mine = prober_metrics(
        [p.start - t0 for p in probes], [p.ok for p in probes], end_s, inj, rev, rev,
        float(rec["window"]), float(rec["slo"]),
    )  # fmt: skip
    fault = summary["faults"][0]
    theirs = Measured(
        summary["headline"]["availability"], fault["outage_s"] or 0.0, fault["ttr_s"],
        summary["headline"]["requests"],
    )  # fmt: skip

    # overhead: wall time minus the scenario's length, split by the run's own timestamps
    length = float(meta["warmup"]) + end_s
    up_done = [
        e["timeNano"] / 1e9
        for e in engine
        if e.get("Type") == "container"
        and (e.get("Action") == "start" or str(e.get("Action", "")).startswith("health_status"))
        and e["timeNano"] / 1e9 < meta["started_wall"]
    ]
    deployed = max(up_done) if up_done else meta["started_wall"]
    overhead = {
        "wall_s": wall_end - wall_start,
        "scenario_s": length,
        "overhead_s": (wall_end - wall_start) - length,
        "deploy_s": deployed - wall_start,
        "ready_s": meta["started_wall"] - deployed,
        "teardown_s": meta["ended_wall"] - end_wall,
        "report_s": wall_end - meta["ended_wall"],
        "bare_compose": bare,
    }
    overhead["ratio"] = overhead["overhead_s"] / bare["total_s"]

    def pp(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else (a - b) * 100

    d_av = pp(theirs.availability, mine.availability)
    d_out = theirs.outage_s - mine.outage_s
    return {
        "case": scenario.stem,
        "verdict": summary["verdict"],
        "exit_code": proc.returncode,
        "fault": {"type": apply["type"], "targets": apply["targets"], "injected_s": inj,
                  "reverted_s": rev},
        "hachaos": asdict(theirs),
        "prober": asdict(mine),
        "prober_max_start_lag_s": max((p.lag for p in probes), default=None),
        "prober_failure_runs": failure_runs([p.start - t0 for p in probes], [p.ok for p in probes]),
        "hachaos_longest_failure_span": summary["longest_failure_span"],
        "hachaos_failure_runs": theirs_runs,
        "prober_requests_sent": len(probes),
        "availability_diff_pp": d_av,
        "outage_diff_s": d_out,
        "ttr_diff_s": (
            None if theirs.ttr_s is None or mine.ttr_s is None else theirs.ttr_s - mine.ttr_s
        ),
        "availability_ok": d_av is not None and abs(d_av) <= GOAL_AVAILABILITY_PP,
        "outage_ok": abs(d_out) <= GOAL_OUTAGE_S,
        "overhead": overhead,
        "hachaos_log_tail": log.splitlines()[-5:],
    }  # fmt: skip


def _attempt(f: Path) -> dict[str, Any]:
    try:
        return run_case(f)
    except (RuntimeError, subprocess.SubprocessError, OSError, KeyError, ValueError) as exc:
        return {"case": f.stem, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str]) -> int:
    files = sorted(SCENARIOS.glob("*.yaml"))
    if argv:
        files = [f for f in files if f.stem in argv]
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "schema": "hachaos.bench.accuracy",
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "goals": {
            "availability_pp": GOAL_AVAILABILITY_PP,
            "outage_s": GOAL_OUTAGE_S,
            "overhead_ratio": GOAL_OVERHEAD_RATIO,
        },
        "prober": {"rps": PROBE_RPS, "timeout_s": PROBE_TIMEOUT, "workers": PROBE_WORKERS},
        "cases": [],
    }
    for f in files:
        print(f"== {f.stem}", flush=True)
        case = _attempt(f)
        if "error" in case:  # e.g. a deploy that timed out on a busy machine: once more
            print(json.dumps(case), flush=True)
            first = case["error"]
            case = _attempt(f)
            case["first_attempt_error"] = first
        result["cases"].append(case)
        print(json.dumps({k: v for k, v in case.items() if k != "hachaos_log_tail"}), flush=True)
    done = [c for c in result["cases"] if "error" not in c]
    over = sum(c["overhead"]["overhead_s"] for c in done)
    bare = sum(c["overhead"]["bare_compose"]["total_s"] for c in done)
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    result["overhead_ratio"] = over / bare if bare else None
    result["all_within_goals"] = bool(done) and all(
        c["availability_ok"] and c["outage_ok"] for c in done
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{started.strftime('%Y-%m-%dT%H%MZ')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}; overhead ratio {result['overhead_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
