"""Benchmark: analysis plus every renderer on synthetic runs of 100 k to 100 M samples.

Each size is generated in one subprocess, chunk by chunk (a million rows at a time,
written in start order as hachaos's own merge writes it), and rendered in a fresh
one, so the peak RSS (ru_maxrss) is that of reading + analysing + rendering alone.
A child that only imports the renderers is the reference measured in the same run:
the floor every size starts from. Goal: peak RSS <= 1 GB at 10 M and 100 M samples,
i.e. not growing with the run (docs/performance.md). Usage:

    .venv/bin/python benchmarks/analysis_bench.py [--sizes 100000,1000000,10000000,100000000]

Results: bench/results/analysis/<UTC date-time>.json. The 100 M run folder takes about
1.5 GB of disk for a few minutes; a size that would not fit on the disk is skipped.
With ``--keep DIR`` the run folders stay in DIR and a later run reuses them (generation
is seeded, so a reused folder is the same run; generating 100 M rows takes 10 min or
more): its ``generate_s`` is then null.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RATE = 1000.0  # requests per second of the synthetic run
MAX_RUN_S = 20 * 3600.0  # a scenario lasts at most 24 h: larger runs get a higher rate


def rate_for(rows: int) -> float:
    """1000 req/s, or more where that would run longer than 20 h (100 M: 1389 req/s)."""
    return max(RATE, rows / MAX_RUN_S)


T0 = 1_700_000_000.0
GEN_CHUNK = 1_000_000
BYTES_PER_ROW = 40  # on disk, with room to spare (measured: ~27)
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "analysis"


def fault_spans(duration: float) -> list[tuple[float, float]]:
    return [(0.3 * duration, 0.3 * duration + 20), (0.6 * duration, 0.6 * duration + 30)]


def generate(run_dir: Path, rows: int) -> None:
    """An open-model run at :func:`rate_for`, two kill faults; 30 % of requests fail meanwhile."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.evidence.samples import MERGE_KEY, SCHEMA, SORTED_BY

    rng = np.random.default_rng(1)
    rate = rate_for(rows)
    duration = rows / rate
    faults = fault_spans(duration)
    run_dir.mkdir(parents=True, exist_ok=True)
    schema = SCHEMA.with_metadata({SORTED_BY: ",".join(MERGE_KEY).encode()})
    with pq.ParquetWriter(run_dir / "samples.parquet", schema, compression="zstd") as writer:
        for lo in range(0, rows, GEN_CHUNK):
            n = min(GEN_CHUNK, rows - lo)
            # this chunk's share of the run, in start order
            t = np.sort(rng.uniform(lo / rate, (lo + n) / rate, n))
            fail = np.zeros(n, dtype=bool)
            for a, b in faults:
                inside = (t >= a) & (t < b + 3)
                fail |= inside & (rng.random(n) < 0.3)
            latency = rng.lognormal(2.3, 0.6, n) + np.where(fail, 500.0, 0.0)
            start_us = (T0 * 1e6 + t * 1e6).astype(np.int64)
            table = pa.table(
                {
                    "intended_us": start_us - rng.integers(0, 2000, n),
                    "start_us": start_us,
                    "latency_ms": latency,
                    "status": np.where(fail, 0, 200).astype(np.int32),
                    "outcome": np.where(fail, "refused", "ok"),
                    "bytes": np.full(n, 512, dtype=np.int64),
                    "name": pa.repeat("GET /", n),
                    "worker": pa.repeat("w1", n),
                    "item": pa.repeat("", n),
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=262_144)
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
        "load": {"model": "open", "rps": rate},
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


def render(run_dir: Path | None) -> None:
    """Time render_run (all formats) and print wall time and peak RSS as JSON.

    Without a run folder: only the imports (the reference floor).
    """
    start = time.perf_counter()
    from harness.report.pipeline import render_run

    if run_dir is None:
        print(json.dumps({"wall_s": time.perf_counter() - start, "peak_mb": _peak_mb()}))
        return
    summary = render_run(run_dir)
    wall = time.perf_counter() - start
    sizes = {p.name: p.stat().st_size for p in run_dir.iterdir() if p.is_file()}
    print(
        json.dumps(
            {
                "wall_s": wall,
                "peak_mb": _peak_mb(),
                "cpu_s": time.process_time(),
                "verdict": summary.verdict,
                "requests": summary.requests,
                "files": sizes,
            }
        )
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000,10000000,100000000")
    parser.add_argument("--workdir", type=Path, default=None, help="where run folders go")
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) run folders here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        if mode == "generate":
            generate(Path(rest[0]), int(rest[1]))
        else:
            render(Path(rest[0]) if rest else None)
        return
    started, load_start = datetime.now(UTC), list(os.getloadavg())
    cases = []
    reference = _child("render")
    print(f"reference (imports only): peak {reference['peak_mb']:.0f} MB")
    print(f"{'samples':>12} {'gen s':>7} {'wall s':>8} {'cpu s':>7} {'peak MB':>8} {'disk MB':>8}")
    with tempfile.TemporaryDirectory(prefix="hachaos-bench-", dir=args.workdir) as tmp:
        where = args.keep or Path(tmp)
        for rows in (int(s) for s in args.sizes.split(",")):
            run_dir = where / str(rows)
            gen_s = None
            if not (run_dir / "scenario.json").is_file():  # written last by generate()
                free = shutil.disk_usage(tmp).free
                if rows * BYTES_PER_ROW > free - 2 * 1024**3:
                    print(f"{rows:>12,} skipped: {free / 1024**3:.1f} GiB free")
                    continue
                g0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, __file__, "--child", "generate", str(run_dir), str(rows)],
                    check=True,
                )
                gen_s = time.perf_counter() - g0
            disk = (run_dir / "samples.parquet").stat().st_size
            r = _child("render", str(run_dir))
            if args.keep is None:
                shutil.rmtree(run_dir)
            cases.append({"samples": rows, "generate_s": gen_s, "samples_bytes": disk, **r})
            gen = "reused" if gen_s is None else f"{gen_s:.1f}"
            print(
                f"{rows:>12,} {gen:>7} {r['wall_s']:>8.1f} {r['cpu_s']:>7.1f} "
                f"{r['peak_mb']:>8.0f} {disk / 1e6:>8.0f}  {r['verdict']}",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{started.strftime('%Y-%m-%dT%H%MZ')}.json"
    out.write_text(
        json.dumps(
            {
                "schema": "hachaos.bench.analysis",
                "started": started.isoformat(timespec="seconds"),
                "machine": {
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "loadavg_start": load_start,
                    "loadavg_end": list(os.getloadavg()),
                },
                "goal_peak_mb": 1000,
                "reference": reference,
                "cases": cases,
            },
            indent=1,
        )
    )
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
