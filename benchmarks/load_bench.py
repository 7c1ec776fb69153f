"""Load generator benchmark: the hachaos driver vs bare Locust vs wrk, on one static target.

    .venv/bin/python benchmarks/load_bench.py [--seconds 12] [--users 32] [--max-workers N]

Target: an HAProxy container (benchmarks/load/Dockerfile) answering 200 by
itself, published on 127.0.0.1. Runs, one after the other, each bounded in
time: wrk (what the machine can do), bare ``locust --headless --processes N``
and the hachaos LoadDriver with the same user class (benchmarks/load/bench_user.py)
and process count, for N = 1..max. CPU is the user+system time of all child
processes (master, workers) from ``getrusage(RUSAGE_CHILDREN)``; both variants
run as direct children of this script, so both are counted the same way.
Prints a table and rewrites the "Load generator" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from harness.load.driver import LoadDriver, LoadPlan  # noqa: E402
from harness.scenario.models import Load  # noqa: E402

HERE = Path(__file__).resolve().parent / "load"
IMAGE = "hachaos-bench-haproxy:latest"
DOC = ROOT / "docs" / "performance.md"


@dataclass
class Row:
    tool: str
    processes: int
    requests: int
    seconds: float
    cpu_s: float  # total, start-up included
    steady_cpu_per_1k: float = float("nan")  # CPU s per 1000 requests in steady state

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_1k(self) -> float:
        return 1000 * self.cpu_s / self.requests if self.requests else float("nan")


def _steady(steady: SteadyCpu, requests: int, seconds: float) -> float:
    steady.join()
    # the window's requests, assuming the rate is steady over the run
    return 1000 * steady.cpu / (requests / seconds * steady.window) if requests else float("nan")


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
    """CPU of the child processes between ``skip`` s after launch and 1 s before the end.

    Leaves out interpreter start-up and imports, which differ between a forking
    ``locust --processes`` and the driver's separately started processes.
    """

    def __init__(self, seconds: int, skip: float = 4.0) -> None:
        self.window = max(seconds - 1 - skip, 1.0)
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


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


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


def run_wrk(url: str, seconds: int, users: int) -> Row:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    before = _children_cpu()
    out = _run(["wrk", "-t2", f"-c{users}", f"-d{seconds}s", url], seconds + 30)
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert m, out
    secs = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    return Row("wrk", 1, int(m.group(1)), secs, _children_cpu() - before)


def run_bare_locust(url: str, seconds: int, users: int, procs: int) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        before = _children_cpu()
        cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "bench_user.py"), "--headless"]
        cmd += ["-u", str(users), "-r", str(users * 10), "-t", f"{seconds}s", "--host", url]
        cmd += ["--csv", f"{tmp}/b", "--only-summary", "--loglevel", "WARNING"]
        cmd += ["--processes", str(procs)]  # master + procs workers, like the driver
        steady = SteadyCpu(seconds)
        subprocess.run(cmd, check=False, capture_output=True, timeout=seconds + 60)
        cpu = _children_cpu() - before
        with open(f"{tmp}/b_stats.csv") as f:
            agg = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        n = int(agg["Request Count"])
        return Row("locust --headless", procs, n, seconds, cpu, _steady(steady, n, seconds))


def run_harness(url: str, seconds: int, users: int, procs: int) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        load = Load(model="closed", users=users, spawn_rate=users * 10)
        plan = LoadPlan(url, load, float(seconds), 1, Path(tmp), HERE / "bench_user.py", procs, "b")
        before = _children_cpu()
        driver = LoadDriver(plan)
        steady = SteadyCpu(seconds)
        driver.start()
        while driver.running():
            time.sleep(0.5)
        result = driver.stop()
        n = result.requests
        cpu = _children_cpu() - before
        return Row("hachaos driver", procs, n, seconds, cpu, _steady(steady, n, seconds))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load1, load5, _ = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average before the run {load1:.2f} (1 min), "
        f"{load5:.2f} (5 min) — the machine is shared with other work, so figures are noisy"
    )


def render(rows: list[Row], seconds: int, users: int, desc: str) -> str:
    lines = [
        "## Load generator",
        "",
        "`benchmarks/load_bench.py`: one static target (HAProxy in a container, "
        "`http-request return status 200`, on 127.0.0.1), each run "
        f"{seconds} s with {users} connections/users, one after the other.",
        "",
        f"Machine: {desc}.",
        "",
        "| tool | worker processes | requests | req/s | CPU s (total) | CPU s / 1000 req (total) "
        "| CPU s / 1000 req (steady) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.tool} | {r.processes} | {r.requests} | {r.rps:,.0f} | {r.cpu_s:.1f} "
            f"| {r.cpu_per_1k:.3f} | {r.steady_cpu_per_1k:.3f} |"
        )
    lines.append("")
    for procs in sorted({r.processes for r in rows if r.tool != "wrk"}):
        h = [r for r in rows if r.tool == "hachaos driver" and r.processes == procs]
        b = [r for r in rows if r.tool == "locust --headless" and r.processes == procs]
        if h and b:
            lines.append(
                f"- {procs} process(es): harness/bare throughput ratio "
                f"**{h[0].rps / b[0].rps:.2f}** (goal ≥ 0.90); CPU per 1000 requests "
                f"{100 * (h[0].steady_cpu_per_1k / b[0].steady_cpu_per_1k - 1):+.1f} % vs bare "
                f"in steady state, {100 * (h[0].cpu_per_1k / b[0].cpu_per_1k - 1):+.1f} % in "
                "total (goal within ±10 %)."
            )
    lines += [
        "",
        "Total CPU includes start-up: bare `--processes` imports Locust once and forks, the "
        "driver starts each process fresh (a clean interpreter per child, and the same "
        "command a remote worker runs). Steady-state CPU is sampled from 4 s after launch "
        "to 1 s before the end. The harness also writes every request to Parquet, which "
        "bare Locust does not. wrk is C and uses "
        "2 threads; it shows what this machine can push, not a like-for-like comparison.",
        "",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n\n"
    pattern = re.compile(r"^## Load generator\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    args = parser.parse_args()
    desc = machine()
    name, url = start_target()
    rows: list[Row] = []
    try:
        rows.append(run_wrk(url, args.seconds, args.users))
        for procs in range(1, args.max_workers + 1):
            rows.append(run_bare_locust(url, args.seconds, args.users, procs))
            rows.append(run_harness(url, args.seconds, args.users, procs))
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    section = render(rows, args.seconds, args.users, desc)
    print(section)
    if not args.no_doc:
        write_doc(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
