"""Run the consistency scenarios N times each and tabulate every run's verdict.

Each scenario runs N times with ``hachaos run --quiet`` (its own run folder and
compose project each, one after the other); then every run folder's
``consistency.json``, ``summary.json`` and ``host.jsonl`` become one row of a
Markdown table: start time, the host's load average during the run, exit code,
verdict, operations (all, ok / info), final reads, anomalies by class, unknown
keys, the worst stale read and the witnesses kept. The table goes to stdout
and to ``<out>/series.md``; ``--table-only`` tabulates existing folders.

The host is shared: run it at low priority (``nice -n 19``) and say so when
quoting the figures.

usage: .venv/bin/python scripts/consistency_series.py [--runs 5] [--out DIR]
       [--table-only] [scenario.yaml ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HACHAOS = [str(ROOT / ".venv" / "bin" / "hachaos")]
SCENARIOS = (
    "scenarios/partition-redis-primary-consistency.yaml",
    "scenarios/partition-redis-primary-consistency-safe.yaml",
    "scenarios/redis-consistency.yaml",
    "scenarios/postgres-consistency.yaml",
)
RUN_TIMEOUT_S = 900  # per run: deploy, 32 s of load, final reads, check, teardown
HEADER = (
    "| scenario | run | start (UTC) | load 1 min: mean / max | exit | verdict"
    " | operations: all (ok / info) | final reads | anomalies | undecided keys"
    " | worst stale read | witnesses |\n|---|---:|---|---|---:|---|---|---|---|---:|---|---:|"
)


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def run_series(scenario: str, runs: int, out: Path) -> None:
    """Run ``scenario`` ``runs`` times into ``out/<scenario stem>``, one after the other;
    each run's exit code goes to ``exit_codes.json`` beside its run folder."""
    dest = out / Path(scenario).stem
    dest.mkdir(parents=True, exist_ok=True)
    codes = dest / "exit_codes.json"
    known: dict[str, int] = json.loads(codes.read_text()) if codes.exists() else {}
    for n in range(1, runs + 1):
        before = _run_dirs(dest)
        print(f"== {scenario} run {n} of {runs}", file=sys.stderr, flush=True)
        cmd = [*HACHAOS, "run", scenario, "--quiet", "--out", str(dest)]
        try:
            rc = subprocess.run(cmd, cwd=ROOT, timeout=RUN_TIMEOUT_S, check=False).returncode
        except subprocess.TimeoutExpired:
            rc = 124
        for new in _run_dirs(dest) - before:
            known[new.name] = rc
        codes.write_text(json.dumps(known, indent=1), encoding="utf-8")


def _run_dirs(dest: Path) -> set[Path]:
    """The run folders under one scenario's folder (``<report dir>/<scenario>/<UTC time>``)."""
    return {p for p in dest.glob("*/*") if p.is_dir() and p.parent.name != "_repeat"}


def run_folders(out: Path) -> list[Path]:
    """Every run folder under ``out`` (those with a summary.json), by scenario, oldest first."""
    found = [p.parent for p in out.rglob("summary.json") if "_repeat" not in p.parts]
    return sorted(found, key=lambda p: (p.parent.name, p.name))


def _why(summary: dict[str, Any]) -> str:
    """A run without a consistency.json, in a few words (a deploy's unhealthy service)."""
    error = str((summary.get("errors") or ["no consistency.json"])[0])
    unhealthy = re.search(r"container \S+-[0-9a-f]{6}-([a-z][\w.-]*?)-\d+ is unhealthy", error)
    if error.startswith("deploying") and unhealthy:
        return f"deploy failed: {unhealthy.group(1)} unhealthy"
    return error.splitlines()[0][:100].replace("|", "/")


def row(scenario: str, n: int, run_dir: Path, codes: dict[str, Any]) -> str:
    """One Markdown row for one run folder (``codes``: exit code by run folder name)."""
    summary = _load(run_dir / "summary.json")
    c = _load(run_dir / "consistency.json")
    exit_code = codes.get(run_dir.name, "?")
    head = (
        f"| {scenario} | {n} | {_start(run_dir.name)} | {_load_average(run_dir)} | {exit_code}"
        f" | {summary.get('verdict', '?')}"
    )
    if not c:
        return f"{head} | – | – | {_why(summary)} | – | – | – |"
    types = c.get("types") or {}
    final = c.get("final_reads") or {}
    final_text = f"{final.get('ok', 0)} of {final.get('selected', 0)} keys" if final else "off"
    anomalies = c.get("anomalies") or {}
    found = ", ".join(f"{v} {k}" for k, v in sorted(anomalies.items()) if v) or "none"
    if c.get("error"):
        found = f"error: {c['error']}"
    unknown = (c.get("linearizability") or {}).get("unknown_keys", 0)
    stale = c.get("stale") or {}
    worst = (
        f"{(stale.get('ms') or {}).get('max', 0):.0f} ms,"
        f" {(stale.get('versions') or {}).get('max', 0):g} versions"
        if stale.get("stale")
        else "–"
    )
    return (
        f"{head} | {c.get('operations', 0)} ({types.get('ok', 0)} / {types.get('info', 0)})"
        f" | {final_text} | {found} | {unknown} | {worst} | {_witnesses(c)} |"
    )


def _start(name: str) -> str:
    """``20261207T151723Z`` (a run folder's name) as ``2026-12-07 15:17``."""
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)\d\dZ", name)
    return f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}" if m else name


def _load_average(run_dir: Path) -> str:
    """Mean and max of the 1-minute load average the run sampled (host.jsonl)."""
    loads = []
    try:
        lines = (run_dir / "host.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            sample = json.loads(line)
        except ValueError:
            continue
        if isinstance(sample, dict) and isinstance(sample.get("load1"), (int, float)):
            loads.append(float(sample["load1"]))
    if not loads:
        return "–"
    return f"{sum(loads) / len(loads):.1f} / {max(loads):.1f}"


def _witnesses(c: dict[str, Any]) -> str:
    """Witnesses kept, and how many of them hold a final read."""
    kept = c.get("witnesses") or []
    final = sum(1 for w in kept if any(o.get("final") for o in w.get("ops") or []))
    return f"{len(kept)} ({final} with a final read)" if final else str(len(kept))


def table(out: Path) -> str:
    """The Markdown table of every run folder under ``out``, grouped by scenario."""
    lines = [HEADER]
    counters: dict[str, int] = {}
    for run_dir in run_folders(out):
        scenario = run_dir.relative_to(out).parts[0]
        counters[scenario] = counters.get(scenario, 0) + 1
        codes = _load(out / scenario / "exit_codes.json")
        lines.append(row(scenario, counters[scenario], run_dir, codes))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--runs", type=int, default=5, choices=range(1, 21), metavar="N")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "consistency-series")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.table_only:
        for scenario in args.scenarios:
            run_series(scenario, args.runs, args.out)
    text = table(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "series.md").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
