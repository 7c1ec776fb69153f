"""Benchmark: the consistency checkers (docs/performance.md#consistency-checkers).

1. **General checker against Porcupine**, in one run, on Porcupine's 102 Jepsen
   etcd histories (tests/fixtures/porcupine/jepsen): each side checks every
   history once per round (parsing not timed), rounds interleaved; the ratio is
   hachaos's total over Porcupine's, median of the rounds. Goal: <= 5x.
   Porcupine runs as a binary given with ``--porcupine`` (or $HACHAOS_PORCUPINE):
   ``BINARY FILE...`` must check each log with ``porcupine.CheckEvents`` and the
   etcd model of Porcupine's porcupine_test.go, and print one JSON line per file,
   ``{"file": ..., "result": "ok"|"illegal"|"unknown", "check_ns": ...}``.
   docs/performance.md says how to build one; hachaos ships none. Without it the
   benchmark times hachaos alone and says so.
2. **Fast checker on 1,000,000 operations**: a generated linearizable register
   history (unique values, 1 % info and 1 % failed writes), once over 5,000 keys
   of 200 operations and once on a single key; each in a fresh child process,
   whose peak RSS (history included) is reported. Goal: <= 10 s and <= 1 GB.

Usage: .venv/bin/python benchmarks/consistency_bench.py [--porcupine BIN] [--rounds 3]
Writes bench/results/consistency-<UTC>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.analysis.consistency.history import Op, OpType, by_key  # noqa: E402
from harness.analysis.consistency.jepsen_log import parse_register_log  # noqa: E402
from harness.analysis.consistency.models import register_calls, register_step  # noqa: E402
from harness.analysis.consistency.wgl import linearizable  # noqa: E402
from harness.analysis.consistency.zones import check_key  # noqa: E402

DATA = ROOT / "tests" / "fixtures" / "porcupine"
RESULTS = ROOT / "bench" / "results"
GOAL_RATIO = 5.0
GOAL_S, GOAL_MB = 10.0, 1024.0


def etcd_files() -> list[Path]:
    verdicts = json.loads((DATA / "verdicts.json").read_text())["linearizable"]
    return [DATA / "jepsen" / name for name in sorted(verdicts) if name.startswith("etcd_")]


def hachaos_round(files: list[Path]) -> tuple[float, dict[str, str]]:
    """Total check time (s) over the histories, and each verdict (parsing not timed)."""
    parsed = [
        (f.name, register_calls(parse_register_log(f.read_text().splitlines()))[0]) for f in files
    ]
    total = 0.0
    verdicts = {}
    for name, calls in parsed:
        start = time.perf_counter()
        verdicts[name] = linearizable(calls, None, register_step).verdict
        total += time.perf_counter() - start
    return total, verdicts


def porcupine_round(binary: str, files: list[Path]) -> tuple[float, dict[str, str]]:
    out = subprocess.run(
        [binary, *map(str, files)], check=True, capture_output=True, text=True, timeout=600
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return (
        sum(r["check_ns"] for r in rows) / 1e9,
        {Path(r["file"]).name: "ok" if r["result"] == "ok" else r["result"] for r in rows},
    )


def versus(binary: str | None, rounds: int) -> dict[str, Any]:
    files = etcd_files()
    expected = json.loads((DATA / "verdicts.json").read_text())["linearizable"]
    ours: list[float] = []
    theirs: list[float] = []
    agree_ours = agree_theirs = 0
    for _ in range(rounds):
        if binary:
            total, verdicts = porcupine_round(binary, files)
            theirs.append(total)
            agree_theirs = sum((verdicts[f.name] == "ok") == expected[f.name] for f in files)
        total, mine = hachaos_round(files)
        ours.append(total)
        agree_ours = sum((mine[f.name] == "ok") == expected[f.name] for f in files)
    result: dict[str, Any] = {
        "histories": len(files),
        "rounds": rounds,
        "hachaos_s": [round(x, 4) for x in ours],
        "hachaos_agrees": agree_ours,
    }
    if binary:
        ratio = statistics.median(ours) / statistics.median(theirs)
        result.update(
            porcupine_s=[round(x, 4) for x in theirs],
            porcupine_agrees=agree_theirs,
            ratio=round(ratio, 3),
            goal_ratio=GOAL_RATIO,
            within_goal=ratio <= GOAL_RATIO,
        )
    else:
        result["porcupine"] = "not run: give --porcupine BIN (docs/performance.md)"
    return result


def generate(n: int, keys: int, seed: int = 1) -> list[Op]:
    """A linearizable register history of ``n`` operations over ``keys`` keys.

    Each key's operations take effect at increasing instants (its linearization);
    each window opens up to 8 ms before that instant and closes up to 8 ms after,
    so about 8 operations overlap. A read returns the value current at its
    instant; 1 % of the writes time out (info, yet take effect), 1 % fail (none).
    """
    rng = random.Random(seed)
    per_key = n // keys
    ops: list[Op] = []
    index = 0
    for k in range(keys):
        key = f"k{k}"
        current: str | None = None
        t = k * 7_000_000  # keys start apart; ns
        for i in range(per_key):
            t += rng.randint(200_000, 2_000_000)
            invoke = t - rng.randint(0, 8_000_000)
            complete = t + rng.randint(0, 8_000_000)
            process = f"p{rng.randrange(64)}"
            if rng.random() < 0.5:
                ops.append(Op(index, process, "read", key, current, "ok", invoke, complete))
            else:
                value = f"{k}.{i}"
                draw = rng.random()
                kind: OpType = "info" if draw < 0.01 else "fail" if draw < 0.02 else "ok"
                if kind != "fail":
                    current = value
                ops.append(Op(index, process, "write", key, value, kind, invoke, complete))
            index += 1
    return ops


def fast_child(n: int, keys: int) -> None:
    """In a fresh process: generate, check every key, print time and peak RSS as JSON."""
    ops = generate(n, keys)
    start, cpu = time.perf_counter(), time.process_time()
    illegal = sum(not check_key(key, kops).linearizable for key, kops in by_key(ops).items())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "operations": len(ops),
                "keys": keys,
                "check_s": wall,
                "check_cpu_s": cpu,
                "peak_mb": peak,
                "illegal_keys": illegal,
            }
        )
    )


def fast(n: int) -> list[dict[str, Any]]:
    out = []
    for keys in (5000, 1):
        proc = subprocess.run(
            [sys.executable, __file__, "--fast-child", str(n), str(keys)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["within_goal"] = row["check_s"] <= GOAL_S and row["peak_mb"] <= GOAL_MB
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--porcupine",
        default=os.environ.get("HACHAOS_PORCUPINE") or shutil.which("porcupine-check"),
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument("--fast-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fast_child:
        fast_child(*args.fast_child)
        return
    started = time.strftime("%Y-%m-%dT%H%MZ", time.gmtime())
    result = {
        "schema": 1,
        "benchmark": "consistency",
        "started": started,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": list(os.getloadavg()),
        },
        "versus_porcupine": versus(args.porcupine, args.rounds),
        "fast_checker": fast(args.operations),
    }
    result["machine"]["loadavg_end"] = list(os.getloadavg())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"consistency-{started}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    v = result["versus_porcupine"]
    print(f"general checker, {v['histories']} etcd histories, {v['rounds']} rounds:")
    print(
        f"  hachaos   {v['hachaos_s']} s, agrees with Porcupine's verdict on {v['hachaos_agrees']}"
    )
    if "ratio" in v:
        print(f"  Porcupine {v['porcupine_s']} s, agrees on {v['porcupine_agrees']}")
        print(f"  ratio (median hachaos / median Porcupine) {v['ratio']} (goal <= {GOAL_RATIO})")
    else:
        print(f"  {v['porcupine']}")
    for row in result["fast_checker"]:
        print(
            f"fast checker, {row['operations']:,} ops on {row['keys']:,} keys: "
            f"{row['check_s']:.2f} s ({row['check_cpu_s']:.2f} s CPU), peak"
            f" {row['peak_mb']:.0f} MB (goal <= {GOAL_S:g} s, <= {GOAL_MB:g} MB)"
        )
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
