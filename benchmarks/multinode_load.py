"""Load workers on 1, 2 and 3 Swarm nodes: the same open-model run, complete each time.

    .venv/bin/python benchmarks/multinode_load.py [--rps 150] [--seconds 30]

On the three-node swarm of tests/multinode/test_load_workers.py (scripts/swarm-node:
node 245 manages, 246 and 247 join; held under /tmp/hachaos-swarm.lock), it runs the
same open-model scenario (tests/multinode/load, one HTTP target on the manager) with
`load.workers.swarm.replicas` = 1, 2, 3: Swarm puts at most one worker per node, so
that is workers on 1, 2 and 3 nodes. For each run it checks that the merged samples
are complete (every arrival of the open schedule recorded exactly once: the schedule
is known) and reports, per worker, its node, its requests and its CPU seconds since
the test started (the worker's own count, shipped with its sample chunks). The nodes
are network namespaces of this one 2-core machine: they share its cores, so the CPU
split and the correctness are what this shows, not throughput that grows with them.

Writes bench/results/multinode-load-<UTC time>.json and the table between the
``bench:multinode-load`` markers of docs/multinode.md (unless ``--no-doc``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyarrow.parquet as pq  # noqa: E402

from harness.load.shape import arrival_times, build_profile  # noqa: E402
from tests.multinode.test_load_workers import (  # noqa: E402
    HERE,
    SCENARIO,
    _hachaos,
    _missing,
    three_node_swarm,
)

DOC = ROOT / "docs" / "multinode.md"
RESULTS = ROOT / "bench" / "results"
MARK = "bench:multinode-load"


def scenario(folder: Path, replicas: int, rps: float, seconds: float) -> Path:
    raw = yaml.safe_load(SCENARIO.read_text())
    raw["name"] = f"workers-on-{replicas}-nodes"
    raw["stack"]["compose"] = str(HERE / "compose.yaml")
    raw["load"]["rps"] = rps
    raw["load"]["workers"] = {"swarm": {"replicas": replicas, "join_timeout": "180s"}}
    raw["timing"] = {"warmup": "2s", "duration": f"{seconds - 4:g}s", "cooldown": "2s"}
    path = folder / f"workers-{replicas}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def one_run(env: dict[str, str], folder: Path, replicas: int, rps: float, seconds: float) -> dict:
    out = folder / f"run-{replicas}"
    started = time.monotonic()
    proc = _hachaos(
        env,
        out,
        "run",
        "-q",
        str(scenario(folder, replicas, rps, seconds)),
        "--out",
        str(out / "reports"),
    )
    output, _ = proc.communicate(timeout=900)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"run with {replicas} worker(s) exited {proc.returncode}:\n{output}")
    (run_dir,) = [p for p in (out / "reports").glob("*/*") if (p / "run.json").exists()]
    samples = pq.read_table(run_dir / "samples.parquet").to_pandas()
    t0 = json.loads((run_dir / "samples" / "started.json").read_text())["t0"]
    profile = build_profile(rps, (), seconds)
    schedule = sorted(
        round(t * 1e6)
        for i in range(replicas)
        for t in arrival_times(profile, i, replicas, "uniform", 0)
    )
    recorded = sorted(round(v - t0 * 1e6) for v in samples["intended_us"])
    exact = len(recorded) == len(schedule) and all(
        abs(a - b) <= 2 for a, b in zip(recorded, schedule, strict=True)
    )
    run = json.loads((run_dir / "run.json").read_text())
    per_worker = samples.groupby("worker").size().to_dict()
    workers = [
        {
            "worker": w["worker"],
            "node": w["host"].rsplit("-w", 1)[0],
            "requests": int(per_worker.get(w["worker"], 0)),
            "cpu_s": w["cpu_s"],
            "clock_offset_ms": w["clock_offset_ms"],
            "clock_uncertainty_ms": w["clock_uncertainty_ms"],
        }
        for w in run["load_workers"]["workers"]
    ]
    return {
        "replicas": replicas,
        "nodes": len({w["node"] for w in workers}),
        "scheduled": len(schedule),
        "recorded": len(recorded),
        "unique_intended": int(samples["intended_us"].nunique()),
        "complete_and_once": exact,
        "ok": int((samples["outcome"] == "ok").sum()),
        "dropped": int((samples["outcome"] == "dropped").sum()),
        "wall_s": round(wall, 1),
        "workers": workers,
    }


def render(result: dict) -> str:
    lines = [
        f"Run {result['started']}, {result['rps']:g} req/s for {result['seconds']:g} s "
        f"per run, 1-min load average {result['load_start']:.1f} at the start and "
        f"{result['load_end']:.1f} at the end.",
        "",
        "| workers (nodes) | scheduled | recorded | each once | per worker: node, requests, "
        "CPU s, clock offset | run wall time |",
        "|---|---:|---:|---|---|---:|",
    ]
    for r in result["runs"]:
        per = "; ".join(
            f"{w['worker']} {w['node']}: {w['requests']} req, {w['cpu_s']:.2f} CPU s, "
            f"{w['clock_offset_ms']:+.2f} ± {w['clock_uncertainty_ms']:.2f} ms"
            for w in r["workers"]
        )
        lines.append(
            f"| {r['replicas']} ({r['nodes']}) | {r['scheduled']} | {r['recorded']} "
            f"| {'yes' if r['complete_and_once'] else '**no**'} | {per} | {r['wall_s']:.0f} s |"
        )
    return "\n".join(lines) + "\n"


def write_doc(table: str) -> None:
    text = DOC.read_text()
    block = f"<!-- {MARK}:start -->\n{table}<!-- {MARK}:end -->"
    pattern = re.compile(rf"<!-- {MARK}:start -->.*?<!-- {MARK}:end -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text + "\n" + block
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=150.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.rps <= 2000 or not 10 <= args.seconds <= 600:
        parser.error("--rps must be 1-2000 and --seconds 10-600")
    reason = _missing()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"hachaos-mn-{started:%H%M%S}"
    folder.mkdir(parents=True)
    with three_node_swarm() as env:
        runs = [one_run(env, folder, n, args.rps, args.seconds) for n in (1, 2, 3)]
    result = {
        "schema": "hachaos-multinode-load/1",
        "started": started.isoformat(timespec="seconds"),
        "rps": args.rps,
        "seconds": args.seconds,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"multinode-load-{started:%Y-%m-%dT%H%MZ}.json").write_text(
        json.dumps(result, indent=1) + "\n"
    )
    table = render(result)
    print(table)
    if not args.no_doc:
        write_doc(table)
    return 0 if all(r["complete_and_once"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
