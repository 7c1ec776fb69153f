"""checks.isolation: probe rounds → a reachability matrix per phase and two checks. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.analysis.phases import FaultWindow
from harness.analysis.slo import CheckResult

CLOSED = ("timeout", "refused", "down")
DENY_CHECK = "isolation: denied paths found open <= 0"
ALLOW_CHECK = "isolation: allowed paths found closed outside fault windows <= 0"


def read_isolation(run_dir: Path) -> dict[str, Any] | None:
    """isolation.json of a run folder, or None when the run probed nothing."""
    path = run_dir / "isolation.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"isolation.json is unreadable: {exc}", "rounds": []}
    return data if isinstance(data, dict) else None


def phase_of(
    t: float, windows: Sequence[FaultWindow], settle: float, span: float = 0.0
) -> tuple[str, bool]:
    """Phase name of a round started at ``t`` (s from t0) and whether it lies in a fault window.

    A window runs from injection to revert (to the end when never reverted), then
    ``settle`` seconds more in which an allowed path may still be closed. A round
    lasts ``span`` seconds and probes at any moment of it, so it belongs to a window
    it overlaps: a round started just before a kill may probe the killed container.
    """
    for w in windows:
        end = w.reverted_s if w.reverted_s is not None else float("inf")
        if t <= end and t + span >= w.injected_s:
            return f"during {w.key}", True
        if end < t + span and t <= end + settle:
            return f"settling after {w.key}", True
    if not windows or t < min(w.injected_s for w in windows):
        return "baseline", False
    return "after recovery", False


def _rule(o: Mapping[str, Any]) -> str:
    port = "" if o.get("port") is None else f":{o['port']}"
    return f"{o['kind']} {o['from']} → {o['to']}{port}"


@dataclass
class _Tally:
    """What the probe rounds saw, rule by rule and phase by phase."""

    matrix: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    denied_open: list[str] = field(default_factory=list)
    allowed_closed: list[str] = field(default_factory=list)
    allowed_closed_in_window: int = 0
    probed: int = 0
    # A rule that no round could probe proves nothing: it fails its check.
    never: dict[tuple[str, str, str], bool] = field(default_factory=dict)

    def add(self, o: Mapping[str, Any], t: float, phase: str, in_window: bool) -> None:
        """One observation of a round started at ``t`` (s from t0)."""
        state = str(o.get("state"))
        cell = self.matrix.setdefault(phase, {}).setdefault(_rule(o), {})
        cell[state] = cell.get(state, 0) + 1
        key = (str(o["kind"]), str(o["from"]), str(o["to"]))
        self.never[key] = self.never.get(key, True) and state == "unprobed"
        if state == "unprobed":
            return
        self.probed += 1
        where = f"{o['from']}#{o.get('from_replica')} → {o['to']}#{o.get('to_replica')}:{o['port']}"
        if o["kind"] == "deny" and state == "open":
            self.denied_open.append(f"{where} open at t={t:.1f}s ({phase})")
        elif o["kind"] == "allow" and state in CLOSED:
            if in_window:
                self.allowed_closed_in_window += 1
            else:
                self.allowed_closed.append(f"{where} {state} at t={t:.1f}s ({phase})")

    def unprobed(self, kind: str) -> list[str]:
        return [
            f"{a} → {b} never probed"
            for (k, a, b), yes in sorted(self.never.items())
            if yes and k == kind
        ]


def _checks(tally: _Tally, none: str) -> list[CheckResult]:
    """Denied paths never open; allowed paths never closed outside the fault windows."""
    in_window = tally.allowed_closed_in_window
    expected = [f"{in_window} closed inside fault windows (expected)"] if in_window else []
    return [
        _check(DENY_CHECK, "all", tally, tally.denied_open, tally.unprobed("deny"), none),
        _check(
            ALLOW_CHECK,
            "outside faults",
            tally,
            tally.allowed_closed,
            tally.unprobed("allow"),
            none,
            expected,
        ),
    ]


def _check(
    name: str,
    phase: str,
    tally: _Tally,
    found: list[str],
    unprobed: list[str],
    none: str,
    notes: Sequence[str] = (),
) -> CheckResult:
    """No breach ``found`` and no rule left ``unprobed`` (nor no probe at all); the detail
    names the first five breaches, the unprobed rules and ``notes``."""
    return CheckResult(
        name=name,
        phase=phase,
        measured=float(len(found)),
        threshold=0.0,
        unit="count",
        passed=bool(tally.probed) and not found and not unprobed,
        detail=none or "; ".join([*found[:5], *unprobed, *notes]),
    )


def analyse_isolation(
    data: Mapping[str, Any], windows: Sequence[FaultWindow], t0_wall: float
) -> tuple[dict[str, Any], list[CheckResult]]:
    """The matrix per phase, the probe overhead and the two checks."""
    settle = float((data.get("config") or {}).get("settle", 5.0))
    rounds = [r for r in data.get("rounds") or [] if isinstance(r, Mapping)]
    errors = [str(r["error"]) for r in rounds if r.get("error")]
    tally = _Tally()
    for r in rounds:
        t = float(r["t_wall"]) - t0_wall
        phase, in_window = phase_of(t, windows, settle, float(r.get("elapsed_s") or 0.0))
        for o in r.get("observations") or []:
            tally.add(o, t, phase, in_window)
    elapsed = [float(r.get("elapsed_s", 0.0)) for r in rounds]
    overhead = {
        "rounds": len(rounds),
        "probes": tally.probed,
        "helpers": sum(int(r.get("helpers", 0)) for r in rounds),
        "round_mean_s": round(sum(elapsed) / len(elapsed), 3) if elapsed else None,
        "round_max_s": max(elapsed) if elapsed else None,
        "errors": errors[:5],
    }
    none = (
        ""
        if tally.probed
        else "no probe answered (see isolation.errors)"
        if errors
        else "no probe ran"
    )
    doc = {
        "matrix": tally.matrix,
        "denied_open": tally.denied_open[:100],
        "allowed_closed": tally.allowed_closed[:100],
        "allowed_closed_in_window": tally.allowed_closed_in_window,
        "overhead": overhead,
    }
    return doc, _checks(tally, none)
