"""The run's guards (abort, steady_state) as text rows shared by every report format."""

from __future__ import annotations

from typing import Any

from harness.report import fmt

ABORT_HEAD = ("", "")
STEADY_HEAD = ("stage", "probe", "holds", "status", "latency", "saw")


def _t(value: Any) -> str:
    return "—" if value is None else f"t={float(value):.2f} s"


def abort_rows(summary: dict[str, Any]) -> list[tuple[str, str]] | None:
    """Label/value rows of the abort (None when the run was not aborted)."""
    a = summary.get("abort")
    if not a:
        return None
    detection = a.get("detection_s")
    revert = a.get("revert_s")
    return [
        ("condition", str(a.get("condition") or "?")),
        ("what it saw", str(a.get("detail") or "—")),
        ("condition held", _t(a.get("condition_s"))),
        (
            "abort",
            _t(a.get("aborted_s"))
            + ("" if detection is None else f" ({float(detection):.2f} s after the condition)"),
        ),
        (
            "faults reverted",
            _t(a.get("reverted_s"))
            + ("" if revert is None else f" ({float(revert):.2f} s after the condition)")
            + ("" if a.get("revert_ok") else " — NOT all reverted"),
        ),
        ("reverted", ", ".join(a.get("reverted") or []) or "none (nothing was in effect)"),
        ("cancelled", ", ".join(a.get("cancelled") or []) or "none"),
    ]


def steady_rows(summary: dict[str, Any]) -> list[tuple[str, ...]] | None:
    """One row per steady-state probe and stage (None when the scenario has none)."""
    rounds = summary.get("steady_state")
    if not rounds:
        return None
    rows: list[tuple[str, ...]] = []
    for stage in ("before", "after"):
        for r in rounds.get(stage) or []:
            status = r.get("status")
            rows.append(
                (
                    "before the faults" if stage == "before" else "after the cooldown",
                    str(r.get("probe")),
                    "yes" if r.get("ok") else "NO",
                    str(status) if status else "—",
                    fmt.ms(r.get("latency_ms")),
                    str(r.get("saw") or ""),
                )
            )
    return rows
