"""capacity.md: the experiment's tables in Markdown (a CI step summary, a PR comment)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.analysis.capacity.document import CapacityDocument
from harness.report import capacity_rows as rows
from harness.report import fmt
from harness.report.markdown import md_cell

_ICONS = {"pass": "✅", "fail": "❌", "unchecked": "➖", "error": "⛔", "interrupted": "⚠️"}


def _table(head: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in body]
    return [*lines, ""]


def render_capacity_markdown(doc: CapacityDocument) -> str:
    """The Markdown report of a capacity experiment."""
    icon = _ICONS.get(doc.verdict, "")
    lines = [
        f"## {icon} hachaos capacity {fmt.verdict_text(doc.verdict)}: {md_cell(doc.scenario)}",
        "",
        *(f"- {md_cell(r)}" for r in doc.verdict_reasons),
        "",
    ]
    notes = [f"> **error:** {md_cell(e)}" for e in doc.errors]
    notes += [f"> {md_cell(n)}" for n in rows.generator_notes(doc.configurations)]
    if notes:
        lines += [*("\n>\n".join(notes).splitlines()), ""]
    lines += ["### Capacity", "", *_table(rows.summary_head(), rows.summary_rows(doc))]
    if doc.checks:
        body = [
            [
                "✅" if c.passed else "❌",
                c.name,
                fmt.measured(c.measured, c.unit),
                fmt.measured(c.threshold, c.unit),
                c.detail,
            ]
            for c in doc.checks
        ]
        lines += ["### Checks", "", *_table(["", "check", "measured", "threshold", "note"], body)]
    variants = list(dict.fromkeys(c.variant for c in doc.configurations))
    if len(variants) > 1:
        head = rows.variant_head(variants[0])
        lines += ["### Variants", "", *_table(head, rows.variant_rows(doc))]
    for table in doc.scaling:
        title = f"### Scaling of {doc.scaled_service}: {table.variant}"
        lines += [title, "", *_table(rows.scaling_head(), rows.scaling_table_rows(table))]
    for config in doc.configurations:
        for search in (config.healthy, config.degraded):
            if search is None:
                continue
            lines += [
                f"### {md_cell(config.label)}, {search.condition}:"
                f" {md_cell(rows.capacity_text(search))}",
                "",
                *_table(rows.step_head(), [rows.step_row(s) for s in search.steps]),
            ]
    lines += ["### Setup", "", *_table(["", ""], [list(r) for r in rows.setup_rows(doc)])]
    return "\n".join(lines).rstrip("\n") + "\n"
