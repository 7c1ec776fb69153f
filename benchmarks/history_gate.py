"""Evidence for the regression gate (docs/history.md#evidence), on the real engine.

1. ``--seed`` runs of tests/e2e/scenarios/gate-work.yaml fill a fresh history;
2. ``--runs`` more runs, each judged on its own by ``hachaos compare --baseline history``
   (no regression expected) and by a single-run ``hachaos compare`` against the run
   before it (default tolerances);
3. one planted run (APP_WORK_MS=40: 40 ms more service time per request) judged the
   same two ways.

Prints a table and writes bench/results/history-gate-<UTC time>.json. Run it on a host
you describe: timing figures on a shared host are noisy, which is the point.

usage: .venv/bin/python benchmarks/history_gate.py [--seed 5] [--runs 10] [--plant work]
       .venv/bin/python benchmarks/history_gate.py --rejudge FOLDER [--seed 6]
       (judge the runs of an earlier evidence folder again, in a fresh history: the
       last run of FOLDER is the planted one)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HACHAOS = [str(ROOT / ".venv" / "bin" / "hachaos")]
SCENARIO = ROOT / "tests" / "e2e" / "scenarios" / "gate-work.yaml"
PLANTS = {"work": {"APP_WORK_MS": "40"}}


def hachaos(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def one_run(out: Path, history: Path, env: dict[str, str]) -> Path:
    before = set((out / "gate-work").glob("*")) if (out / "gate-work").exists() else set()
    done = hachaos(
        "run", str(SCENARIO), "--quiet", "--out", str(out), "--history", str(history), env=env
    )
    [run_dir] = set((out / "gate-work").glob("*")) - before
    print(f"  run {run_dir.name}: exit {done.returncode}", flush=True)
    return run_dir


def judge(run_dir: Path, previous: Path | None, history: Path) -> dict[str, Any]:
    gate = hachaos("compare", "--baseline", "history", "--history", str(history), str(run_dir))
    doc = json.loads((run_dir / "gate.json").read_text())["scenarios"][0]
    doc_notes = doc["notes"]
    single: dict[str, Any] = {}
    if previous is not None:
        cmp = hachaos("compare", str(previous), str(run_dir))
        rows = json.loads((run_dir / "compare.json").read_text())["rows"]
        single = {
            "exit": cmp.returncode,
            "regressed": [r["metric"] for r in rows if r["regressed"]],
        }
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "run": run_dir.name,
        "verdict": summary["verdict"],
        "host": summary.get("host"),
        "figures": {f["figure"]: f["value"] for f in doc["figures"]},
        "gate_exit": gate.returncode,
        "gate_judged": doc["judged"],
        "gate_notes": doc_notes,
        "gate_verdict_regressed": doc["verdict_regressed"],
        "gate_regressed": [f["figure"] for f in doc["figures"] if f["status"] == "regressed"],
        "gate_p_noise": {f["figure"]: f["p_noise"] for f in doc["figures"] if f["p_noise"]},
        "single_compare": single,
    }


def rejudge(folder: Path, seed: int) -> int:
    """Judge an evidence folder's runs again with this hachaos, in time order."""
    history = folder / f"rejudge-{datetime.now(UTC).strftime('%H%M%S')}.sqlite"
    hachaos("history", "--history", str(history), "import", str(folder))
    runs = sorted(p for p in (folder / "gate-work").iterdir() if (p / "summary.json").is_file())
    judged, previous = [], None
    for i, run_dir in enumerate(runs):
        if i >= seed:
            judged.append(judge(run_dir, previous, history))
        previous = run_dir
    report(folder, judged[:-1], judged[-1], PLANTS["work"], seed, 0.0)
    return 0


def report(
    out: Path,
    judged: list[dict[str, Any]],
    planted: dict[str, Any],
    plant: dict[str, str],
    seed: int,
    wall_s: float,
) -> None:
    """The result file and the table."""
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "load": os.getloadavg(),
        },
        "wall_s": wall_s,
        "seed_runs": seed,
        "plant": plant,
        "noise_runs": judged,
        "planted": planted,
        "passing_runs_judged": sum(1 for j in judged if j["verdict"] == "pass"),
        "gate_false_alarms": sum(1 for j in judged if j["gate_regressed"]),
        "gate_false_alarms_on_passing_runs": sum(
            1 for j in judged if j["gate_regressed"] and j["verdict"] == "pass"
        ),
        "single_compare_false_alarms": sum(1 for j in judged if j["single_compare"]["regressed"]),
    }
    target = ROOT / "bench" / "results" / f"history-gate-{out.name}.json"
    target.write_text(json.dumps(result, indent=1) + "\n")
    for j in [*judged, planted]:
        figs = j["figures"]
        print(
            f"{j['run']}  {j['verdict']}  p10 {figs.get('p10_ms')}  p50 {figs.get('p50_ms')}  "
            f"p99 {figs.get('p99_ms')}  gate {j['gate_regressed'] or 'ok'}  "
            f"single {j['single_compare'].get('regressed')}"
        )
    print(
        f"gate false alarms {result['gate_false_alarms']}/{len(judged)}, single-run compare "
        f"false alarms {result['single_compare_false_alarms']}/{len(judged)}; planted: gate "
        f"{planted['gate_regressed']}, single {planted['single_compare']}"
    )
    print(f"written: {target}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--plant", choices=sorted(PLANTS), default="work")
    parser.add_argument("--out", type=Path, default=Path("/tmp/hachaos-history-gate"))
    parser.add_argument("--rejudge", type=Path, default=None)
    args = parser.parse_args()
    if args.rejudge is not None:
        return rejudge(args.rejudge, args.seed)
    out = args.out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    history = out / "history.sqlite"
    started = time.monotonic()
    print(f"seeding the history with {args.seed} runs ({out})", flush=True)
    previous = None
    for _ in range(args.seed):
        previous = one_run(out, history, {}) or previous
    judged = []
    print(f"{args.runs} runs judged by the gate", flush=True)
    for _ in range(args.runs):
        run_dir = one_run(out, history, {})
        if run_dir is not None and (run_dir / "summary.json").is_file():
            judged.append(judge(run_dir, previous, history))
            previous = run_dir
    print(f"planted regression: {PLANTS[args.plant]}", flush=True)
    planted_dir = one_run(out, history, PLANTS[args.plant])
    assert planted_dir is not None, "the planted run wrote no folder"
    planted = judge(planted_dir, previous, history)
    report(out, judged, planted, PLANTS[args.plant], args.seed, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
