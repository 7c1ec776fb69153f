"""The docs/reliability.md table from a results file: stage x fault type -> leftovers, time."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from tests.selfchaos.stages import STAGES

CASE_STAGES = ("two-runs", "locust-worker-killed", "engine-restart")


def line(r: dict[str, Any]) -> str:
    """One line per kill point: seed, scenario, fault, stage, offset, cleanups, time, leftovers."""
    runs = r.get("cleanup_runs", [])
    killed = sum(1 for c in runs if c.get("killed"))
    left = r.get("leftovers", [])
    stage = f"{r.get('stage')}->{r.get('observed_stage')}"
    kill_at = r.get("kill_at", r.get("offset", 0.0))
    return (
        f"seed={r.get('seed')} {r.get('scenario')} fault={r.get('fault')} stage={stage} "
        f"kill_at={kill_at:.2f}s cleanups={len(runs)} (killed {killed}) "
        f"cleanup={r.get('cleanup_seconds', 0.0):.2f}s leftovers={len(left)}"
        + (f": {'; '.join(left)[:600]}" if left else "")
    )


KINDS = (
    "container",
    "network",
    "volume",
    "image",
    "swarm",
    "netns",
    "process",
    "journal",
    "cleanup",
    "survivor",
    "run exit",
)


def kind_of(leftover: str) -> str:
    """What a leftover line is about (container, image, netns, cleanup error...)."""
    text = leftover.lower()
    if text.startswith("netns of"):
        return "netns"
    if "cleanup exit" in text:
        return "cleanup"
    for kind in KINDS:
        if text.startswith(kind) or f" {kind} " in f" {text.split(':', 1)[0]} ":
            return kind
    return "other"


SHORT = {"container": "c", "network": "n", "volume": "v", "image": "i"}


def summary(leftovers: list[str], *, short: bool = False) -> str:
    """``5 container, 1 network`` (short: ``5c 1n``): leftovers by kind, in a fixed order."""
    counts: dict[str, int] = defaultdict(int)
    for item in leftovers:
        counts[kind_of(item)] += 1
    order = [*KINDS, "other"]
    if short:
        return " ".join(f"{counts[k]}{SHORT.get(k, ' ' + k)}" for k in order if counts.get(k))
    return ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))


def stage_of(r: dict[str, Any]) -> str:
    """The stage a result is filed under: what was observed at the kill, or the special case."""
    if r.get("stage") in CASE_STAGES:
        return str(r["stage"])
    return str(r.get("observed_stage") or r.get("stage"))


def markdown(results: list[dict[str, Any]], header: str) -> str:
    """The reliability table: one row per observed stage, one column per fault type."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        cells[(stage_of(r), str(r.get("fault")))].append(r)
    faults = sorted({f for _, f in cells})
    order = [*STAGES, "exited", *CASE_STAGES]
    stages = sorted({s for s, _ in cells}, key=lambda s: order.index(s) if s in order else 99)
    out = [header, ""]
    out.append("| stage \\ fault | " + " | ".join(faults) + " |")
    out.append("|---|" + "---|" * len(faults))
    for st in stages:
        row = [st]
        for f in faults:
            rs = cells.get((st, f), [])
            if not rs:
                row.append("")
                continue
            left = [item for r in rs for item in r.get("leftovers", [])]
            secs = [float(r.get("cleanup_seconds", 0.0)) for r in rs]
            verdict = "nothing" if not left else f"**{summary(left, short=True)}**"
            row.append(f"{len(rs)}x {verdict} {statistics.median(secs):.1f}/{max(secs):.1f}s")
        out.append("| " + " | ".join(row) + " |")
    times = [float(r.get("cleanup_seconds", 0.0)) for r in results]
    all_left = [item for r in results for item in r.get("leftovers", [])]
    total_left = len(all_left)
    points = len(results)
    out += [
        "",
        f"{points} kill points, {sum(1 for r in results if r.get('leftovers'))} with leftovers "
        f"({total_left} objects); cleanup time median "
        f"{statistics.median(times) if times else 0:.1f} s, max {max(times, default=0):.1f} s.",
        "",
        "Each cell: kill points x what was left after `hachaos cleanup` (c containers, "
        "n networks, v volumes, i images; other kinds spelled out), then cleanup time "
        "median/max in seconds. The stage is the one observed at the moment of the SIGKILL "
        "(`exited`: the run had already ended). Points run two at a time between one pair "
        "of snapshots, so a leftover that names neither project (an image) is counted "
        "for both.",
        "",
        "Leftovers by kind over all points: " + (summary(all_left) or "none") + ".",
    ]
    leftovers = [r for r in results if r.get("leftovers")]
    if leftovers:
        out += ["", "<details><summary>Leftovers of each kill point</summary>", ""]
        for r in leftovers:
            items = r["leftovers"]
            first = "; ".join(i.strip()[:160] for i in items[:3])
            more = f"; ... ({len(items) - 3} more)" if len(items) > 3 else ""
            out.append(
                f"- `{r.get('scenario')}` {r.get('stage')}->{stage_of(r)} "
                f"(kill at {float(r.get('kill_at', r.get('offset', 0.0))):.1f} s): "
                f"{summary(items)}: {first}{more}"
            )
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
