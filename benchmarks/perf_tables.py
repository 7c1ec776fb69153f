"""Regenerate the accuracy and overhead tables of docs/performance.md from a bench result.

usage: .venv/bin/python benchmarks/perf_tables.py [bench/results/<file>.json]
(default: the newest file in bench/results/). The prose around the tables is kept: only
the text between the ``<!-- bench:NAME:start -->`` / ``<!-- bench:NAME:end -->`` markers
is replaced; a missing section is appended at the end of the document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
RESULTS = ROOT / "bench" / "results"

INTRO = {
    "accuracy": (
        "## Accuracy against an independent prober\n\n"
        "`benchmarks/accuracy.py` (in `make bench`) runs each scenario of\n"
        "`benchmarks/scenarios/` with hachaos while its own prober, which shares no code with\n"
        "hachaos (http.client, a thread pool, its own open-model schedule at 50 req/s), probes\n"
        "the same 127.0.0.1 port. Both compute availability, the fault's outage span and its\n"
        "time to recover with the definitions of docs/metrics.md, each from its own requests.\n"
        "Goal: availability within ±1 percentage point and outage within ±0.3 s in every case.\n"
    ),
    "overhead": (
        "## Fixed overhead of a run\n\n"
        "Wall time of `hachaos run` minus the scenario's length (warmup + duration + cooldown),\n"
        "split with run.json and the engine's events: **deploy** (process start to the last\n"
        "container start/health event: imports, validation, `compose up --build --wait`),\n"
        "**ready** (to the load start: target check, environment facts, Locust start),\n"
        "**teardown** (end of the cooldown to `ended_wall`: load stop, reverts, `compose down`)\n"
        "and **report** (to process exit). Compared with a bare `docker compose up --detach\n"
        "--wait` + `down --volumes --timeout 3` of the same stack just before each case.\n"
        "Goal: ≤ 1.2× compose alone.\n"
    ),
}


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.2f} %"


def _s(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f} s"


def _signed(v: float | None, unit: str) -> str:
    return "–" if v is None else f"{v:+.2f}{unit}"


def machine_line(r: dict[str, Any]) -> str:
    m = r["machine"]
    load = ", ".join(f"{x:.2f}" for x in m.get("loadavg_start", []))
    return (
        f"Run {r['started']}: {m['cores']} cores ({m.get('cpu', '')}), {m['memory_gib']} GiB, "
        f"kernel {m['kernel']}, engine {m['engine']}, Compose {m['compose']}, "
        f"Python {m['python']}; load average at the start {load} (shared machine: 8 helpers "
        "running tests and stacks at the same time, so timings are noisy)."
    )


def accuracy_table(r: dict[str, Any]) -> str:
    rows = [
        machine_line(r),
        "",
        "| case | availability hachaos | prober | Δ | outage hachaos | prober | Δ "
        "| TTR hachaos | prober | prober max start lag | within goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in r["cases"]:
        if "error" in c:
            rows.append(f"| `{c['case']}` | error: {c['error']} | | | | | | | | | no |")
            continue
        h, p = c["hachaos"], c["prober"]
        ok = c["availability_ok"] and c["outage_ok"]
        misses = [n for n, flag in (("availability", c["availability_ok"]),
                                    ("outage", c["outage_ok"])) if not flag]  # fmt: skip
        rows.append(
            f"| `{c['case']}` | {_pct(h['availability'])} | {_pct(p['availability'])} "
            f"| {_signed(c['availability_diff_pp'], ' pp')} | {_s(h['outage_s'])} "
            f"| {_s(p['outage_s'])} | {_signed(c['outage_diff_s'], ' s')} | {_s(h['ttr_s'])} "
            f"| {_s(p['ttr_s'])} | {_s(c['prober_max_start_lag_s'], 3)} "
            f"| {'yes' if ok else 'MISS: ' + ', '.join(misses)} |"
        )
    done = [c for c in r["cases"] if "error" not in c]
    hits = sum(c["availability_ok"] and c["outage_ok"] for c in done)
    rows += ["", f"{hits} of {len(r['cases'])} cases within both goals."]
    return "\n".join(rows)


def overhead_table(r: dict[str, Any]) -> str:
    rows = [
        "| case | wall | scenario | overhead | deploy | ready | teardown | report "
        "| compose up + down | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in r["cases"]:
        if "error" in c:
            continue
        o = c["overhead"]
        rows.append(
            f"| `{c['case']}` | {_s(o['wall_s'], 1)} | {_s(o['scenario_s'], 0)} "
            f"| {_s(o['overhead_s'], 1)} | {_s(o['deploy_s'], 1)} | {_s(o['ready_s'], 1)} "
            f"| {_s(o['teardown_s'], 1)} | {_s(o['report_s'], 1)} "
            f"| {_s(o['bare_compose']['total_s'], 1)} | {o['ratio']:.2f}× |"
        )
    ratio = r.get("overhead_ratio")
    goal = r["goals"]["overhead_ratio"]
    verdict = "met" if ratio is not None and ratio <= goal else "not met"
    shown = "–" if ratio is None else f"{ratio:.2f}×"
    rows += ["", f"All cases: overhead / compose alone = **{shown}** (goal ≤ {goal}×: {verdict})."]
    return "\n".join(rows)


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    if start not in text:
        return f"{text.rstrip()}\n\n{INTRO[name]}\n{start}\n{body}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else max(RESULTS.glob("*.json"), default=None)
    if path is None:
        raise SystemExit("no bench/results/*.json yet: run benchmarks/accuracy.py first")
    result = json.loads(path.read_text())
    text = DOC.read_text(encoding="utf-8")
    text = replace_section(text, "accuracy", accuracy_table(result))
    text = replace_section(text, "overhead", overhead_table(result))
    DOC.write_text(text, encoding="utf-8")
    print(f"docs/performance.md: tables from {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
