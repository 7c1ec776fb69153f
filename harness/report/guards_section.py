"""The run's guards (abort, steady_state) as text rows shared by every report format."""

from __future__ import annotations

from harness.analysis.summary_model import Summary
from harness.report import fmt

STEADY_HEAD = ("stage", "probe", "holds", "status", "latency", "saw")


def _t(value: float | None) -> str:
    return "—" if value is None else f"t={float(value):.2f} s"


def _after(seconds: float | None) -> str:
    return "" if seconds is None else f" ({float(seconds):.2f} s after the condition)"


def abort_rows(summary: Summary) -> list[tuple[str, str]] | None:
    """Label/value rows of the abort (None when the run was not aborted)."""
    a = summary.abort
    if a is None:
        return None
    return [
        ("condition", a.condition or "?"),
        ("what it saw", a.detail or "—"),
        ("condition held", _t(a.condition_s)),
        ("abort", _t(a.aborted_s) + _after(a.detection_s)),
        (
            "faults reverted",
            _t(a.reverted_s) + _after(a.revert_s) + ("" if a.revert_ok else " — NOT all reverted"),
        ),
        ("reverted", ", ".join(a.reverted) or "none (nothing was in effect)"),
        ("cancelled", ", ".join(a.cancelled) or "none"),
    ]


def steady_rows(summary: Summary) -> list[tuple[str, ...]] | None:
    """One row per steady-state probe and stage (None when the scenario has none)."""
    rounds = summary.steady_state
    if not rounds:
        return None
    rows: list[tuple[str, ...]] = []
    for stage in ("before", "after"):
        for r in rounds.get(stage) or []:
            rows.append(
                (
                    "before the faults" if stage == "before" else "after the cooldown",
                    r.probe,
                    "yes" if r.ok else "NO",
                    str(r.status) if r.status else "—",
                    fmt.ms(r.latency_ms),
                    r.saw,
                )
            )
    return rows
