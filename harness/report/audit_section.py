"""The security audit's rows for every report format (one place, so renderers stay small)."""

from __future__ import annotations

from harness.analysis.summary_model import Summary

AUDIT_HEAD = ("severity", "rule", "service", "location", "finding", "fix")


def audit_lines(summary: Summary) -> tuple[str, list[tuple[str, ...]]] | None:
    """``(caption, rows)`` of the run's audit, or None when the run has none."""
    audit = summary.audit
    if audit is None or not audit.model_fields_set:  # absent or `{}`
        return None
    if audit.error:
        return f"The audit could not run: {audit.error}", []
    counts = audit.counts or {}
    mode = audit.mode if "mode" in audit.model_fields_set else "live"
    compose_file = audit.compose_file if "compose_file" in audit.model_fields_set else "?"
    caption = (
        f"{mode} audit of {compose_file}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("critical", "high", "medium", "low"))
        + " (`hachaos audit` explains each rule)"
    )
    rows: list[tuple[str, ...]] = [
        (
            str(f.severity),
            str(f.rule),
            str(f.service),
            f"{f.file}:{f.line}" if f.file else "",
            str(f.message),
            str(f.fix),
        )
        for f in audit.findings or []
    ]
    return caption, rows
