"""Fault lag benchmark: scheduled time → fault verified in effect, and → verified reverted.

Runs N apply/revert cycles per fault type on a small real stack and prints the
median and p99 of both lags (from the runner's fault.apply / fault.revert
events: ``wall_end - planned_wall``). Targets: kill/pause/stop <= 100 ms median,
network faults <= 500 ms median.

usage: .venv/bin/python benchmarks/fault_lag.py [N] [type ...]
"""

from __future__ import annotations

import io
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker
from pydantic import TypeAdapter

from harness.engine import helpers
from harness.evidence.events import EventLog, read_events
from harness.faults.catalog import FaultSpec
from harness.faults.runner import FaultRunner
from harness.scenario.plan import PlannedFault

DOCKERFILE = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends busybox \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /www && echo ok > /www/index.html
CMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
"""
IMAGE = "hachaos-bench-lag:1"
COMPOSE = f"""\
services:
  web:
    image: {IMAGE}
    restart: always
    init: true
    tmpfs: ["/data:size=16m"]
  peer:
    image: {IMAGE}
    init: true
"""
SPECS: dict[str, dict[str, Any]] = {
    "kill": {},
    "stop": {"grace": 1},
    "pause": {},
    "partition": {"peers": ["peer"]},
    "loss": {"percent": 0.3},
    "bandwidth": {"rate": "1mbit"},
    "dns": {},
    "cpu": {"cpus": 0.5},
    "memory": {"size": "16MiB"},
    "disk": {"path": "/data", "fill": 0.5},
    "scale": {},
    "crash": {"for": None},
    "restart": {"for": None, "grace": 1},
}
LEAD = 0.05  # schedule each action this far ahead, like the orchestrator's scheduler


def planned(fault_type: str, n: int) -> PlannedFault:
    spec = {
        "type": fault_type,
        "target": {"service": "web"},
        "at": 0,
        "for": 30,
        **SPECS[fault_type],
    }
    if spec["for"] is None:
        del spec["for"]
    model = TypeAdapter(FaultSpec).validate_python(spec)
    end = None if "for" not in spec else 30.0
    return PlannedFault(0, n, fault_type, fault_type, model, "web", (1,), 0.0, end)


def at(wall: float) -> float:
    time.sleep(max(0.0, wall - time.time()))
    return wall


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    types = sys.argv[2:] or list(SPECS)
    c = docker.from_env()
    try:
        c.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        c.images.build(fileobj=io.BytesIO(DOCKERFILE.encode()), tag=IMAGE, rm=True)
    helpers.ensure_image()
    project = f"hcbench-{secrets.token_hex(3)}"
    folder = Path(tempfile.mkdtemp(prefix=project))
    (folder / "compose.yaml").write_text(COMPOSE)
    base = ["docker", "compose", "-p", project, "-f", str(folder / "compose.yaml")]
    subprocess.run([*base, "up", "-d"], check=True, capture_output=True)
    log = EventLog(folder / "events.jsonl")
    runner = FaultRunner(project=project, run_id=project, run_dir=folder, events=log)
    try:
        for t in types:
            for i in range(n):
                step = planned(t, i)
                runner.apply(step, planned_wall=at(time.time() + LEAD))
                if step.end is not None:
                    time.sleep(0.2)
                    runner.revert(step, planned_wall=at(time.time() + LEAD))
                else:
                    # The engine backs off restarts of a container that ran < 10 s
                    # (100 ms, doubling), so crashes are spaced out.
                    time.sleep(11.0 if t == "crash" else 1.0)
    finally:
        runner.revert_all()
        log.close()
        subprocess.run([*base, "down", "-t", "1"], check=False, capture_output=True)
    events = read_events(folder / "events.jsonl")
    print(f"fault lag over {n} cycles (ms): scheduled -> verified")
    print(f"{'type':<12}{'apply p50':>10}{'apply p99':>10}{'revert p50':>11}{'revert p99':>11}")
    for t in types:
        row = [f"{t:<12}"]
        for kind in ("fault.apply", "fault.revert"):
            lags = [
                (e["wall_end"] - e["planned_wall"]) * 1000
                for e in events
                if e["kind"] == kind and e["type"] == t and e["ok"]
            ]
            if lags:
                row.append(f"{statistics.median(lags):>10.0f}{pct(lags, 0.99):>10.0f} ")
            else:
                row.append(f"{'self-healing':>21} ")
        print("".join(row))


if __name__ == "__main__":
    main()
