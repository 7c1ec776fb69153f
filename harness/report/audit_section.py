"""The security audit's rows for every report format (one place, so renderers stay small)."""

from __future__ import annotations

from typing import Any

AUDIT_HEAD = ("severity", "rule", "service", "location", "finding", "fix")


def audit_lines(summary: dict[str, Any]) -> tuple[str, list[tuple[str, ...]]] | None:
    """``(caption, rows)`` of the run's audit, or None when the run has none."""
    audit = summary.get("audit")
    if not audit:
        return None
    if audit.get("error"):
        return f"The audit could not run: {audit['error']}", []
    counts = audit.get("counts") or {}
    caption = (
        f"{audit.get('mode', 'live')} audit of {audit.get('compose_file', '?')}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("critical", "high", "medium", "low"))
        + " (`hachaos audit` explains each rule)"
    )
    rows: list[tuple[str, ...]] = [
        (
            str(f["severity"]),
            str(f["rule"]),
            str(f["service"]),
            f"{f['file']}:{f['line']}" if f.get("file") else "",
            str(f["message"]),
            str(f["fix"]),
        )
        for f in audit.get("findings") or []
    ]
    return caption, rows
