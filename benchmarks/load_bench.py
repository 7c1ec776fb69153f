"""Load parity: the hachaos driver against bare Locust, in interleaved rounds.

    .venv/bin/python benchmarks/load_bench.py [--rounds 20] [--seconds 15] [--workers 1 2]

Target: an HAProxy container (benchmarks/load/Dockerfile) answering 200 by itself,
published on 127.0.0.1. Both tools run the same user class (benchmarks/load/bench_user.py,
closed model, no wait) with the same number of users and worker processes:

- bare ``locust --headless --processes N`` (a master and N forked workers);
- the hachaos ``LoadDriver`` (a master and N workers, each recording every request).

One run on this shared 2-core machine swings by ±25 % from one minute to the next, so a
single pair says nothing. Each **round** runs every (tool, workers) cell once, in an
order shuffled per round (seeded); the **parity** of a round is the driver's throughput
over bare Locust's at the same worker count, from the two runs of that round, which ran
within a minute of each other. The result is the median parity over the rounds with its
interquartile range, beside the medians and IQRs of each tool's throughput and CPU per
1000 requests. Throughput counts the requests sent during the test's run time (both
tools start counting once every worker is connected, so start-up is not in it); CPU is
the user+system time of the child processes over the test's run time less its first
2 s and last second (start-up left out: a fork and fresh interpreters differ there).

Writes bench/results/load-<UTC time>.json (every run and the summary) and rewrites the
"Load generator" section of docs/performance.md, unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from harness.load.driver import LoadDriver, LoadPlan  # noqa: E402
from harness.scenario.models import Load  # noqa: E402

HERE = Path(__file__).resolve().parent / "load"
IMAGE = "hachaos-bench-haproxy:latest"
DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "bench" / "results"
BARE, DRIVER = "locust --headless", "hachaos driver"
GOAL = 0.97


@dataclass
class Run:
    """One run of one tool."""

    round: int
    position: int  # order within the round
    tool: str
    workers: int
    requests: int
    seconds: float
    steady_cpu_s: float  # CPU of the children in the steady window
    steady_window_s: float
    load1: float  # the machine's 1-min load average when the run started

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_1k(self) -> float:
        """Steady-state CPU s per 1000 requests (the rate is steady over the run)."""
        window_requests = self.rps * self.steady_window_s
        return 1000 * self.steady_cpu_s / window_requests if window_requests else float("nan")


def _tree_cpu() -> float:
    """User+system seconds of every live descendant of this process."""
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


class SteadyCpu:
    """CPU of the child processes over ``window`` s, from ``skip`` s after its creation."""

    def __init__(self, window: float, skip: float) -> None:
        self.window = max(window, 1.0)
        self.cpu = float("nan")
        self._skip = skip
        self._thread = threading.Thread(target=self._measure, daemon=True)
        self._thread.start()

    def _measure(self) -> None:
        time.sleep(self._skip)
        first = _tree_cpu()
        time.sleep(self.window)
        self.cpu = _tree_cpu() - first

    def join(self) -> None:
        self._thread.join()


def _run(cmd: list[str], timeout: float) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout).stdout


def start_target() -> tuple[str, str]:
    """Build and start the HAProxy target; returns (container name, URL)."""
    _run(["docker", "build", "-q", "-t", IMAGE, str(HERE)], timeout=600)
    name = f"hachaos-bench-{secrets.token_hex(4)}"
    # no --rm: if HAProxy dies at start, its log is still there to read; removed in main()
    _run(["docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080", IMAGE], 60)
    port = _run(["docker", "port", name, "8080/tcp"], 30).strip().splitlines()[0].rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}"
    for _ in range(50):
        if subprocess.run(["curl", "-fs", url], check=False, capture_output=True).returncode == 0:
            return name, url
        time.sleep(0.2)
    logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    raise RuntimeError(f"the HAProxy target did not answer:\n{logs.stderr[-2000:]}")


def run_bare(url: str, seconds: int, users: int, workers: int) -> tuple[int, float, float]:
    """(requests, steady CPU s, steady window s) of bare Locust."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "bench_user.py"), "--headless"]
        cmd += ["-u", str(users), "-r", str(users * 10), "-t", f"{seconds}s", "--host", url]
        cmd += ["--csv", f"{tmp}/b", "--only-summary", "--loglevel", "WARNING"]
        cmd += ["--processes", str(workers)]  # master + N workers, like the driver
        # the forked workers connect within a second or two of the launch
        steady = SteadyCpu(seconds - 3, skip=4.0)
        subprocess.run(cmd, check=False, capture_output=True, timeout=seconds + 120)
        steady.join()
        with open(f"{tmp}/b_stats.csv") as f:
            agg = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        return int(agg["Request Count"]), steady.cpu, steady.window


def run_driver(url: str, seconds: int, users: int, workers: int) -> tuple[int, float, float]:
    """(requests, steady CPU s, steady window s) of the hachaos driver."""
    with tempfile.TemporaryDirectory() as tmp:
        load = Load(model="closed", users=users, spawn_rate=users * 10)
        plan = LoadPlan(
            url, load, float(seconds), 1, Path(tmp), HERE / "bench_user.py", workers, "bench"
        )
        driver = LoadDriver(plan)
        driver.start()  # returns once the test started: fresh interpreters import first
        steady = SteadyCpu(seconds - 3, skip=2.0)
        deadline = time.monotonic() + seconds + 120
        while driver.running() and time.monotonic() < deadline:
            time.sleep(0.5)
        result = driver.stop()
        steady.join()
        return result.requests, steady.cpu, steady.window


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile), the 'inclusive' method."""
    if not values:
        nan = float("nan")
        return nan, nan, nan
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def summarise(runs: list[Run]) -> list[dict[str, object]]:
    """Per worker count: medians and IQRs of each tool, and of the paired parity."""
    out: list[dict[str, object]] = []
    for workers in sorted({r.workers for r in runs}):
        cell = {(r.round, r.tool): r for r in runs if r.workers == workers}
        rounds = sorted({rnd for rnd, _ in cell})
        # A run that sent nothing (a starved start on a busy host) leaves its round unpaired:
        # counted in `lost_rounds`, never a parity of 0 or infinity.
        paired = [
            rnd
            for rnd in rounds
            if cell.get((rnd, BARE)) and cell[(rnd, BARE)].requests > 0
            if cell.get((rnd, DRIVER)) and cell[(rnd, DRIVER)].requests > 0
        ]
        parity = [cell[(rnd, DRIVER)].rps / cell[(rnd, BARE)].rps for rnd in paired]
        # the CPU window can miss a child that exits inside it: such a run has no CPU figure
        measured = [
            rnd
            for rnd in paired
            if cell[(rnd, DRIVER)].cpu_per_1k > 0 and cell[(rnd, BARE)].cpu_per_1k > 0
        ]
        cpu_ratio = [
            cell[(rnd, DRIVER)].cpu_per_1k / cell[(rnd, BARE)].cpu_per_1k for rnd in measured
        ]
        row: dict[str, object] = {
            "workers": workers,
            "rounds": len(paired),
            "lost_rounds": len(rounds) - len(paired),
        }
        for tool, key in ((BARE, "bare"), (DRIVER, "driver")):
            row[f"{key}_rps"] = quartiles([cell[(rnd, tool)].rps for rnd in paired])
            row[f"{key}_cpu_per_1k"] = quartiles([cell[(rnd, tool)].cpu_per_1k for rnd in measured])
        row["parity"] = quartiles(parity)
        row["cpu_ratio"] = quartiles(cpu_ratio)
        row["parity_rounds_at_or_above_goal"] = sum(p >= GOAL for p in parity)
        out.append(row)
    return out


def machine() -> dict[str, object]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "nice": os.nice(0),
    }


def _q(t: object, fmt: str) -> str:
    q1, q2, q3 = t  # type: ignore[misc]
    return f"{format(q2, fmt)} ({format(q1, fmt)}–{format(q3, fmt)})"


def _lost(row: dict[str, object]) -> str:
    lost = row.get("lost_rounds") or 0
    return f" ({lost} lost: a run sent nothing)" if lost else ""


def render(result: dict[str, object]) -> str:
    loads = result["load_average"]
    assert isinstance(loads, dict)
    lines = [
        "## Load generator",
        "",
        "`benchmarks/load_bench.py`: the hachaos driver against bare `locust --headless "
        "--processes N` on one static target (HAProxy in a container answering 200 itself, on "
        f"127.0.0.1), {result['users']} users of the same FastHttpUser class, no wait, "
        f"{result['seconds']} s per run. {result['rounds']} rounds; each round runs every "
        "(tool, workers) cell once in a shuffled order, and a round's **parity** is the "
        "driver's throughput over bare Locust's at the same worker count in that round. "
        "Medians with the interquartile range (first–third quartile) in brackets.",
        "",
        f"Run {result['started']} at nice {result['machine']['nice']}: "  # type: ignore[index]
        f"{result['machine']['cores']} cores ({result['machine']['cpu']}), "  # type: ignore[index]
        f"Python {result['machine']['python']}; 1-min load average "  # type: ignore[index]
        f"{loads['start']:.1f} at the start, {loads['min']:.1f}–{loads['max']:.1f} over the "
        f"runs (median {loads['median']:.1f}), {loads['end']:.1f} at the end (what else "
        "ran meanwhile is in the load average; interleaving makes it fair to both tools, "
        "not quiet).",
        "",
        "| workers | rounds | bare req/s | driver req/s | **parity** | rounds ≥ 0.97 "
        "| bare CPU s / 1000 req | driver CPU s / 1000 req | CPU ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = result["summary"]
    assert isinstance(summary, list)
    for row in summary:
        lines.append(
            f"| {row['workers']} | {row['rounds']}{_lost(row)} | {_q(row['bare_rps'], ',.0f')} "
            f"| {_q(row['driver_rps'], ',.0f')} | **{_q(row['parity'], '.3f')}** "
            f"| {row['parity_rounds_at_or_above_goal']} of {row['rounds']} "
            f"| {_q(row['bare_cpu_per_1k'], '.3f')} | {_q(row['driver_cpu_per_1k'], '.3f')} "
            f"| {_q(row['cpu_ratio'], '.3f')} |"
        )
    lines += [
        "",
        f"Goal: median parity ≥ {GOAL} at 1 and 2 workers. Every run is in `{result['file']}`.",
        "",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n\n"
    pattern = re.compile(r"^## Load generator\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 200 or not 5 <= args.seconds <= 600:
        parser.error("--rounds must be 1-200 and --seconds 5-600")
    rng = random.Random(args.seed)
    started = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    name, url = start_target()
    runs: list[Run] = []
    cells = [(tool, w) for w in args.workers for tool in (BARE, DRIVER)]
    try:
        for rnd in range(args.rounds):
            order = cells[:]
            rng.shuffle(order)
            for pos, (tool, workers) in enumerate(order):
                load1 = os.getloadavg()[0]
                go = run_bare if tool == BARE else run_driver
                n, cpu, window = go(url, args.seconds, args.users, workers)
                run = Run(rnd, pos, tool, workers, n, float(args.seconds), cpu, window, load1)
                runs.append(run)
                print(
                    f"round {rnd + 1:>2}/{args.rounds} {tool:<18} workers={workers} "
                    f"{run.rps:>8,.0f} req/s  cpu/1k {run.cpu_per_1k:.3f}  load {load1:.1f}",
                    flush=True,
                )
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    loads = [r.load1 for r in runs]
    stamp = started.strftime("%Y-%m-%dT%H%MZ")
    out = RESULTS / f"load-{stamp}.json"
    result: dict[str, object] = {
        "schema": "hachaos-load-parity/1",
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "users": args.users,
        "seed": args.seed,
        "goal": GOAL,
        "load_average": {
            "start": load_start,
            "end": os.getloadavg()[0],
            "min": min(loads),
            "max": max(loads),
            "median": statistics.median(loads),
        },
        "file": str(out.relative_to(ROOT)),
        "summary": summarise(runs),
        "runs": [asdict(r) | {"rps": r.rps, "cpu_per_1k": r.cpu_per_1k} for r in runs],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    section = render(result)
    print(section)
    if not args.no_doc:
        write_doc(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
