"""compare.md and compare.json: the regression table of `hachaos compare`."""

from __future__ import annotations

import json

from harness.analysis.compare import CompareResult, CompareRow
from harness.report import fmt


def _value(row: CompareRow, value: float | None) -> str:
    return fmt.measured(value, row.unit)


def _delta(row: CompareRow) -> str:
    if row.delta is None:
        return fmt.MISSING
    if row.unit == "ratio":
        return f"{row.delta * 100:+.3f} pp"
    return f"{row.delta:+.3f} {row.unit}"


def compare_table(result: CompareResult) -> list[list[str]]:
    """Rows of text: metric, base, new, delta, tolerance, verdict, note."""
    return [
        [
            r.metric,
            _value(r, r.base),
            _value(r, r.new),
            _delta(r),
            r.tolerance,
            "REGRESSED" if r.regressed else "ok",
            r.note,
        ]
        for r in result.rows
    ]


HEADER = ["metric", "base", "new", "delta", "tolerance", "verdict", "note"]


def render_compare_markdown(result: CompareResult) -> str:
    """The regression table as Markdown."""
    verdict = "❌ regression" if result.regressed else "✅ no regression"
    lines = [
        f"## hachaos compare: {verdict}",
        "",
        f"base `{result.base_run}` → new `{result.new_run}`",
        "",
        f"run verdicts: base {fmt.verdict_text(result.base_verdict or '?')}"
        f" → new {fmt.verdict_text(result.new_verdict or '?')}",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for row in compare_table(result):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines) + "\n"


def render_compare_json(result: CompareResult) -> str:
    """The comparison as JSON (schema ``hachaos.compare`` version 1)."""
    return json.dumps(result.to_dict(), indent=1) + "\n"
