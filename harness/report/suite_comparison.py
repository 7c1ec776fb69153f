"""compare.md and compare.json of `hachaos compare` between two suite folders."""

from __future__ import annotations

import json

from harness.analysis.compare import CompareResult
from harness.analysis.suite_compare import ScenarioComparison, SuiteComparison
from harness.report import fmt

HEADER = ["scenario", "verdict", "availability", "p99", "worst time to recover", "result"]


def _pair(base: str, new: str) -> str:
    return new if base == new else f"{base} → {new}"


def _metric(result: CompareResult | None, prefix: str, unit: str) -> str:
    """``base → new`` of the first row whose metric starts with ``prefix`` (worst for TTR)."""
    if result is None:
        return fmt.MISSING
    rows = [r for r in result.rows if r.metric.startswith(prefix)]
    if not rows:
        return fmt.MISSING
    if unit == "s":  # several faults: the slowest recovery on each side
        b = max((r.base for r in rows if r.base is not None), default=None)
        n = max((r.new for r in rows if r.new is not None), default=None)
    else:
        b, n = rows[0].base, rows[0].new
    return _pair(
        fmt.measured(b, unit),
        fmt.measured(n, unit),
    )


def _result(s: ScenarioComparison) -> str:
    if s.regressed:
        return "REGRESSED: " + ", ".join(s.regressed_metrics())
    return "; ".join(x for x in (s.expectation, s.note) if x) or "ok"


def _verdicts(s: ScenarioComparison) -> str:
    pair = _pair(s.base_verdict or "-", s.new_verdict or "-")
    return pair if s.new_expected == "pass" else f"{pair} (expect {s.new_expected})"


def suite_compare_table(cmp: SuiteComparison) -> list[list[str]]:
    """Rows of text, regressions first: scenario, verdicts, availability, p99, TTR, result."""
    ordered = sorted(cmp.scenarios, key=lambda s: not s.regressed)
    return [
        [
            s.scenario,
            _verdicts(s),
            _metric(s.result, "availability", "ratio"),
            _metric(s.result, "p99", "ms"),
            _metric(s.result, "time to recover", "s"),
            _result(s),
        ]
        for s in ordered
    ]


def render_suite_compare_markdown(cmp: SuiteComparison) -> str:
    """The per-scenario regression table as Markdown."""
    verdict = "❌ regression" if cmp.regressed else "✅ no regression"
    n = sum(1 for s in cmp.scenarios if s.regressed)
    t = cmp.tolerances
    lines = [
        f"## hachaos compare (suites): {verdict}",
        "",
        f"base `{cmp.base}` → new `{cmp.new}`: {n} of {len(cmp.scenarios)} scenarios regressed",
        "",
        *(
            [f"expected failures that now pass: {', '.join(cmp.flipped)}", ""]
            if cmp.flipped
            else []
        ),
        f"tolerances: availability drop <= {t.max_availability_drop:.3%}, p99 increase <= "
        f"{t.max_p99_increase:.0%}, time to recover increase <= {t.max_ttr_increase:g} s per fault",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in suite_compare_table(cmp):
        cells = (fmt.printable(c).replace("|", "\\|").replace("\n", " ") for c in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_suite_compare_json(cmp: SuiteComparison) -> str:
    """The comparison as JSON (schema ``hachaos.suite-compare`` version 1)."""
    return json.dumps(cmp.to_dict(), indent=1, allow_nan=False) + "\n"
