"""Benchmark: analysis plus every renderer on 100 k, 1 M and 5 M synthetic samples.

Each size is generated in one subprocess and rendered in a fresh one, so the
peak RSS (ru_maxrss) is that of reading + analysing + rendering alone.
Goal at 1 M samples: <= 10 s and <= 1.5 GB. Usage:

    .venv/bin/python benchmarks/analysis_bench.py [--sizes 100000,1000000,5000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE = 1000.0  # requests per second of the synthetic run
T0 = 1_700_000_000.0


def generate(run_dir: Path, rows: int) -> None:
    """A closed-model run at 1000 rps with two kill faults; 30 % of requests fail meanwhile."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    duration = rows / RATE
    t = np.sort(rng.uniform(0, duration, rows))
    faults = [(0.3 * duration, 0.3 * duration + 20), (0.6 * duration, 0.6 * duration + 30)]
    fail = np.zeros(rows, dtype=bool)
    for a, b in faults:
        inside = (t >= a) & (t < b + 3)
        fail |= inside & (rng.random(rows) < 0.3)
    latency = rng.lognormal(2.3, 0.6, rows) + np.where(fail, 500.0, 0.0)
    outcome = np.where(fail, "refused", "ok")
    start_us = (T0 * 1e6 + t * 1e6).astype(np.int64)
    frame = pd.DataFrame(
        {
            "intended_us": start_us - rng.integers(0, 2000, rows),
            "start_us": start_us,
            "latency_ms": latency,
            "status": np.where(fail, 0, 200).astype(np.int32),
            "outcome": pd.Series(outcome, dtype="string"),
            "bytes": np.full(rows, 512, dtype=np.int64),
            "name": pd.Series(np.full(rows, "GET /"), dtype="string"),
            "worker": pd.Series(np.full(rows, "w1"), dtype="string"),
        }
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(run_dir / "samples.parquet", index=False)
    events = []
    for i, (a, b) in enumerate(faults):
        common = {"fault": f"kill-{i + 1}", "type": "kill", "index": i, "occurrence": 0}
        events.append(
            {
                "kind": "fault.apply",
                **common,
                "wall_start": T0 + a,
                "wall_end": T0 + a + 0.3,
                "ok": True,
                "targets": ["app-1"],
                "planned": a,
                "self_healing": False,
            }
        )
        events.append(
            {
                "kind": "fault.revert",
                **common,
                "wall_start": T0 + b,
                "wall_end": T0 + b + 0.5,
                "ok": True,
            }
        )
    (run_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    meta = {
        "schema": 1,
        "run_id": f"bench-{rows}",
        "scenario": "bench",
        "seed": 0,
        "load_model": "open",
        "t0_wall": T0,
        "warmup": 0.0,
        "duration": duration,
        "cooldown": 0.0,
        "outcome": "completed",
        "errors": [],
        "generator": {"saturated": False},
        "environment": {"host_cores": 2},
    }
    (run_dir / "run.json").write_text(json.dumps(meta))
    scenario = {
        "version": 1,
        "name": "bench",
        "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:8080/"},
        "load": {"model": "open", "rps": RATE},
        "timing": {"duration": duration},
        "faults": [
            {"type": "kill", "target": {"service": "app"}, "at": a, "for": b - a} for a, b in faults
        ],
        "checks": {
            "availability": {"overall": 0.99, "baseline": 0.999},
            "latency": [{"percentile": 99, "max": "100ms"}],
            "recovery": {"max": 10},
            "max_failure_span": 5,
        },
    }
    (run_dir / "scenario.json").write_text(json.dumps(scenario))


def render(run_dir: Path) -> None:
    """Time render_run (all formats) and print wall time and peak RSS as JSON."""
    start = time.perf_counter()
    from harness.report.pipeline import render_run

    summary = render_run(run_dir)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    sizes = {p.name: p.stat().st_size for p in run_dir.iterdir() if p.is_file()}
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_mb": peak_mb,
                "verdict": summary.verdict,
                "requests": summary.requests,
                "files": sizes,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, run_dir = args.child
        generate(Path(run_dir), args.rows) if mode == "generate" else render(Path(run_dir))
        return
    print(f"{'samples':>10} {'wall s':>8} {'peak MB':>8} {'html KB':>8}  verdict")
    with tempfile.TemporaryDirectory(prefix="hachaos-bench-") as tmp:
        for rows in (int(s) for s in args.sizes.split(",")):
            run_dir = Path(tmp) / str(rows)
            me = [sys.executable, __file__]
            subprocess.run(
                [*me, "--child", "generate", str(run_dir), "--rows", str(rows)], check=True
            )
            out = subprocess.run(
                [*me, "--child", "render", str(run_dir)], check=True, capture_output=True, text=True
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{rows:>10,} {r['wall_s']:>8.2f} {r['peak_mb']:>8.0f} "
                f"{r['files']['report.html'] / 1024:>8.0f}  {r['verdict']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
