"""summary.md: a short Markdown report for a CI step summary or a PR comment."""

from __future__ import annotations

import re

from harness.analysis.summary_model import Summary
from harness.analysis.swarm import replaced_text
from harness.report import fmt
from harness.report.audit_section import AUDIT_HEAD, audit_lines
from harness.report.consistency_section import WITNESS_HEAD, consistency_rows, witnesses
from harness.report.guards_section import STEADY_HEAD, abort_rows, steady_rows
from harness.report.isolation_section import ISOLATION_HEAD, isolation_lines

# Markdown and inline HTML that a name could smuggle into a CI summary or PR comment.
# `_` only at a word edge: `during_faults` stays readable, `_x_` cannot italicise.
# `>` is markup only after `<` (escaped) or at the start of a line (a quote).
_MARKUP = re.compile(r"[\\`*\[\]<&|~]|^>|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITIES = {"<": "&lt;", "&": "&amp;"}


def md_cell(text: str) -> str:
    """One line of plain text inside Markdown: markup escaped, control characters shown."""
    flat = " ".join(fmt.printable(text).splitlines())
    return _MARKUP.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), flat)


_ICONS = {
    "pass": "✅",
    "fail": "❌",
    "aborted": "🛑",
    "unchecked": "➖",
    "error": "⛔",
    "interrupted": "⚠️",
}


def render_markdown(summary: Summary) -> str:
    """The Markdown summary of a run."""
    s = summary
    lines = _headline(s) + _checks(s) + _guards(s) + _faults(s) + _swarm(s) + _findings(s)
    lines += ["", f"<sub>{s.generated_by} · run {s.run.run_id}</sub>", ""]
    return "\n".join(lines)


def _table(
    head: list[str] | tuple[str, ...], rows: list[list[str]] | list[tuple[str, ...]]
) -> list[str]:
    """A Markdown table of plain-text cells (each escaped)."""
    out = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    return out + ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]


def _headline(s: Summary) -> list[str]:
    """The verdict, its reasons, the headline figures, the errors and warnings."""
    h = s.headline
    icon = _ICONS.get(s.verdict, "")
    lines = [
        f"## {icon} hachaos {fmt.verdict_text(s.verdict)}: {md_cell(str(s.run.scenario))}",
        "",
    ]
    lines += [f"- {md_cell(r)}" for r in s.verdict_reasons]
    if s.expect is not None and s.expect.verdict != "pass":  # a weakness shown on purpose
        lines += [f"- {md_cell(fmt.expect_line(s))}"]
    lines += [
        "",
        f"**{fmt.num(h.requests)}** requests · availability **{fmt.pct(h.availability)}**"
        f" · p99 ({s.latency_kind}) **{fmt.ms(h.p99_ms)}**"
        f" · {fmt.num(h.throughput_rps)} req/s"
        f" · longest failure span {fmt.secs(s.longest_failure_span.seconds)}",
        "",
    ]
    notices = [f"> **error:** {md_cell(e)}" for e in s.errors]
    notices += [f"> {md_cell(w)}" for w in s.warnings]
    if notices:
        lines += [*("\n>\n".join(notices).splitlines()), ""]
    return lines


def _checks(s: Summary) -> list[str]:
    lines = ["### SLO checks", ""]
    if not s.checks:
        return [*lines, "No checks were evaluated."]
    lines += ["| | check | phase | measured | threshold |", "|---|---|---|---:|---:|"]
    for c in s.checks:
        mark = "✅" if c.passed else "❌"
        lines.append(
            f"| {mark} | {md_cell(c.name)} | {md_cell(c.phase)} | "
            f"{fmt.measured(c.measured, c.unit)} | {fmt.measured(c.threshold, c.unit)} |"
        )
    return lines


def _guards(s: Summary) -> list[str]:
    """Abort, steady state and the durability read-back, when the run had them."""
    lines: list[str] = []
    if (abort := abort_rows(s)) is not None:
        lines += ["", "### Abort", "", "| stop condition | |", "|---|---|"]
        lines += [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in abort]
    if (steady := steady_rows(s)) is not None:
        lines += ["", "### Steady state", "", *_table(STEADY_HEAD, steady)]
    if s.durability is not None:
        lines += ["", "### Durability", "", "| read-back after the faults | |", "|---|---:|"]
        lines += [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in fmt.durability_rows(s.durability)]
    lines += _consistency(s)
    return lines


def _consistency(s: Summary) -> list[str]:
    if s.consistency is None:
        return []
    lines = ["", "### Consistency", "", "| history checks | |", "|---|---|"]
    lines += [f"| {md_cell(k)} | {md_cell(v)} |" for k, v in consistency_rows(s.consistency)]
    for w in witnesses(s.consistency):
        lines += ["", f"**{md_cell(w.kind)}** on key `{w.key}`: {md_cell(w.text)}", ""]
        lines += ["| " + " | ".join(WITNESS_HEAD) + " |", "|---|---|---|---:|---:|"]
        lines += ["| " + " | ".join(md_cell(x) for x in row) + " |" for row in w.rows]
    return lines


def _faults(s: Summary) -> list[str]:
    lines = ["", "### Faults", ""]
    if not s.faults:
        return [*lines, "No fault was injected."]
    lines += [
        "| fault | type | detection | failures | outage | time to recover "
        "| p99 inflation | recovered |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in s.faults:
        lines.append(
            f"| {md_cell(f.key)} | {md_cell(f.type)} | {fmt.secs(f.detection_s)} | "
            f"{fmt.num(f.failures)} | {fmt.secs(f.outage_s)} | "
            f"{fmt.secs(f.ttr_s)} | {fmt.ratio_x(f.p99_inflation)} | "
            f"{md_cell(fmt.recovered_text(f))} |"
        )
    return lines


def _swarm(s: Summary) -> list[str]:
    """Swarm's own recovery view beside the load's."""
    if not s.swarm:
        return []
    t0 = float(s.run.t0_wall or 0.0)
    lines = [
        "",
        "### Time to the desired replica count (the platform's own view)",
        "",
        "| fault | service | desired | to desired | load recovered | replaced by |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in s.swarm:
        lines.append(
            f"| {md_cell(r.key)}{' ⚠️' if r.disagree else ''} | {md_cell(str(r.service))}"
            f" | {fmt.num(r.desired)} | {fmt.secs(r.time_to_desired_s)} | "
            f"{fmt.secs(r.load_recovery_s)} | {md_cell(replaced_text(r.model_dump(), t0))} |"
        )
    return lines


def _findings(s: Summary) -> list[str]:
    """The isolation matrix and the security audit, when the run had them."""
    lines: list[str] = []
    if iso := isolation_lines(s):
        lines += ["", "### Isolation (reachability per phase)", "", md_cell(iso[0]), ""]
        lines += _table(ISOLATION_HEAD, iso[1])
    if audit := audit_lines(s):
        lines += ["", "### Security audit", "", md_cell(audit[0]), ""]
        if audit[1]:
            lines += _table(AUDIT_HEAD, audit[1])
    return lines
