"""Container sampler cost, and load parity with the sampler on and off.

    .venv/bin/python benchmarks/sampler_bench.py [--rounds 3] [--seconds 20] [--no-doc]

Six containers carry the label ``io.hachaos.bench=<id>``: the HAProxy target of
benchmarks/load_bench.py and five idle ones. Two measurements, in interleaved rounds:

1. **Cost.** Rounds of ``--seconds`` with the sampler (harness/run/sampler.py, the
   real Docker stats streams) off, then on. CPU is this process's (every sampler
   thread runs in it) and the Docker daemon's (it collects the stats), from
   /proc via psutil. Cost = (on − off) per second, per container.
2. **Load parity.** The hachaos load driver (1 worker process, 32 users) against
   bare ``locust --headless`` on the same target, each pair with the sampler off,
   then on; the harness/bare throughput ratio of the "on" pairs is compared with
   the spread of the "off" pairs.
Prints a table and rewrites the "Container sampler" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import psutil  # noqa: E402
from load_bench import HERE, IMAGE, run_bare, run_driver  # noqa: E402

from harness.engine.stats import DockerStats  # noqa: E402
from harness.run.sampler import ContainerSampler  # noqa: E402

LABEL = "io.hachaos.bench"
DOC = ROOT / "docs" / "performance.md"
USERS = 32


def dockerd() -> psutil.Process:
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "dockerd":
            return proc
    raise RuntimeError("no dockerd process")


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def measure(seconds: float, on: bool, source: DockerStats, daemon: psutil.Process) -> dict:
    """CPU seconds per second of this process and of dockerd over one round."""
    me = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        sampler = ContainerSampler(source, Path(tmp)) if on else None
        if sampler is not None:
            sampler.start()
            time.sleep(3.0)  # streams open; the steady state is what a run pays
        a_me, a_d, a_t = cpu(me), cpu(daemon), time.monotonic()
        time.sleep(seconds)
        b_me, b_d, b_t = cpu(me), cpu(daemon), time.monotonic()
        rows = 0
        if sampler is not None:
            sampler.stop()
            rows = len(sampler.rows)
    span = b_t - a_t
    return {"on": on, "me": (b_me - a_me) / span, "dockerd": (b_d - a_d) / span, "rows": rows}


def parity_pair(url: str, seconds: int, on: bool, source: DockerStats) -> float:
    """harness/bare throughput ratio, with the sampler running during both or neither."""
    with tempfile.TemporaryDirectory() as tmp:
        sampler = ContainerSampler(source, Path(tmp)) if on else None
        if sampler is not None:
            sampler.start()
        bare, _, _ = run_bare(url, seconds, USERS, 1)
        driver, _, _ = run_driver(url, seconds, USERS, 1)
        if sampler is not None:
            sampler.stop()
    return driver / bare  # the same run time: the request counts' ratio is the throughputs'


def render(cost: list[dict], parity: list[tuple[bool, float]], args: argparse.Namespace) -> str:
    load = os.getloadavg()
    lines = [
        "## Container sampler",
        "",
        "`benchmarks/sampler_bench.py`: the container sampler (harness/run/sampler.py, Docker "
        "stats streams) on 6 containers, in interleaved rounds with it off and on. "
        f"Load average at the end {load[0]:.1f} (1 min): the machine is shared, so the "
        "figures are noisy.",
        "",
        "| round | sampler | hachaos process, % of one core | dockerd, % of one core | rows |",
        "|---:|---|---:|---:|---:|",
    ]
    for i, r in enumerate(cost, 1):
        state = "on" if r["on"] else "off"
        lines.append(
            f"| {i} | {state} | {100 * r['me']:.2f} | {100 * r['dockerd']:.2f} | {r['rows']} |"
        )
    off = [r for r in cost if not r["on"]]
    on = [r for r in cost if r["on"]]
    me = statistics.mean(r["me"] for r in on) - statistics.mean(r["me"] for r in off)
    dd = statistics.mean(r["dockerd"] for r in on) - statistics.mean(r["dockerd"] for r in off)
    lines += [
        "",
        f"- sampler cost in the hachaos process: **{100 * me:.2f} % of one core** for 6 "
        f"containers ({100 * me / 6:.3f} % per container); goal ≤ 2 % for 6.",
        f"- extra dockerd CPU while streaming the stats: {100 * dd:.2f} % of one core "
        f"({100 * dd / 6:.3f} % per container).",
        f"- together: {100 * (me + dd):.2f} % of one core.",
    ]
    if parity:
        p_off = [r for on_, r in parity if not on_]
        p_on = [r for on_, r in parity if on_]
        spread = (max(p_off) - min(p_off)) if len(p_off) > 1 else float("nan")
        lines += [
            "",
            f"Load parity (hachaos driver / bare Locust throughput, 1 worker, {USERS} users, "
            f"{args.seconds} s each, pairs interleaved off/on): off "
            + ", ".join(f"{r:.3f}" for r in p_off)
            + "; on "
            + ", ".join(f"{r:.3f}" for r in p_on)
            + f". Mean off {statistics.mean(p_off):.3f}, on {statistics.mean(p_on):.3f} "
            f"(difference {statistics.mean(p_on) - statistics.mean(p_off):+.3f}; spread of the "
            f"off pairs {spread:.3f}). Median (IQR) off {_median_iqr(p_off)}, on "
            f"{_median_iqr(p_on)}.",
        ]
    return "\n".join(lines) + "\n"


def _median_iqr(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.3f}" if values else "—"
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.3f} ({q1:.3f}–{q3:.3f})"


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"## Container sampler\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(section.rstrip("\n") + "\n", text)
        if pattern.search(text)
        else (text.rstrip("\n") + "\n\n" + section)
    )
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--parity-rounds", type=int, default=2)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    tag = secrets.token_hex(4)
    names: list[str] = []
    try:
        subprocess.run(["docker", "build", "-q", "-t", IMAGE, str(HERE)], check=True, timeout=600)
        for i in range(6):  # the load target, then five idle containers: all labelled
            name = f"hachaos-sampler-bench-{tag}-{i}"
            image = [IMAGE] if i == 0 else ["debian:bookworm-slim", "sleep", "3600"]
            ports = ["-p", "127.0.0.1::8080"] if i == 0 else []
            cmd = ["docker", "run", "-d", "--name", name, "--label", f"{LABEL}={tag}"]
            subprocess.run([*cmd, *ports, *image], check=True, capture_output=True, timeout=60)
            names.append(name)
        port = (
            subprocess.run(
                ["docker", "port", names[0], "8080/tcp"], check=True, capture_output=True, text=True
            )
            .stdout.split()[0]
            .rsplit(":", 1)[1]
        )
        url = f"http://127.0.0.1:{port}"
        time.sleep(2.0)

        def identify(labels: dict[str, str]) -> tuple[str, int] | None:
            return ("bench", 0) if labels.get(LABEL) == tag else None

        source = DockerStats(f"{LABEL}={tag}", identify)
        daemon = dockerd()
        cost = []
        for _ in range(args.rounds):
            for on in (False, True):
                cost.append(measure(args.seconds, on, source, daemon))
                print(cost[-1], flush=True)
        parity = []
        for _ in range(args.parity_rounds):
            for on in (False, True):
                parity.append((on, parity_pair(url, args.seconds, on, source)))
                print(parity[-1], flush=True)
        section = render(cost, parity, args)
        print(section)
        if not args.no_doc:
            write_doc(section)
    finally:
        for name in names:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
