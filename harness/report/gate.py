"""The regression gate's reports: a Markdown section, gate.json and a JUnit testsuite.
Pure: gate results in, text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from harness.analysis.gate import FigureJudgement, GateResult
from harness.report import fmt
from harness.report.junit import append_testsuites

GATE_SCHEMA = "hachaos.gate"
GATE_SCHEMA_VERSION = 1
HEADER = ("scenario", "figure", "value", "band (median ± k·MAD)", "baseline", "result")


def band_text(j: FigureJudgement) -> str:
    b = j.band
    if b is None:
        return fmt.MISSING
    centre = fmt.measured(b.centre, j.unit)
    # the band as the figure can be: no negative time, no availability above 100 %
    low = b.low if j.unit == "ratio" else max(b.low, 0.0)
    high = min(b.high, 1.0) if j.unit == "ratio" else b.high
    return f"{fmt.measured(low, j.unit)} … {fmt.measured(high, j.unit)} (median {centre})"


def result_text(j: FigureJudgement) -> str:
    """``REGRESSED (worse than all 20 baseline runs …: P(noise) ≤ 4.8%)``, ``within noise``…"""
    if j.regressed:
        n = j.band.n if j.band else 0
        z = "∞" if j.z is None or j.z == float("inf") else f"{j.z:.1f}"
        return (
            f"REGRESSED (worse than all {n} baseline runs and {z} σ from their median: "
            f"P(noise) ≤ {fmt.pct(j.p_noise, 1)})"
        )
    return j.status


def verdict_text(r: GateResult) -> str:
    if not r.judged:
        return "not judged"
    if r.verdict_regressed:
        return f"REGRESSED: verdict {r.verdict}, expected {r.expected}"
    return "REGRESSED" if r.regressed else "no regression"


def gate_rows(results: Sequence[GateResult]) -> list[list[str]]:
    """One row per judged figure (a scenario without a baseline: one row with the note)."""
    rows = []
    for r in results:
        if not r.judged:
            rows.append([r.scenario, "-", "-", "-", str(len(r.baseline)), verdict_text(r)])
            continue
        if r.verdict_regressed:
            rows.append(
                [
                    r.scenario,
                    "verdict",
                    r.verdict,
                    r.expected,
                    str(len(r.baseline)),
                    verdict_text(r),
                ]
            )
        for j in r.judgements:
            rows.append(
                [
                    r.scenario,
                    j.label,
                    fmt.measured(j.value, j.unit),
                    band_text(j),
                    str(j.band.n if j.band else 0),
                    result_text(j),
                ]
            )
    return rows


def _md(text: str) -> str:
    return fmt.printable(text).replace("|", "\\|").replace("\n", " ")


def render_gate_markdown(results: Sequence[GateResult]) -> str:
    """The gate's verdict per scenario and every figure against its band."""
    regressed = [r.scenario for r in results if r.regressed]
    head = (
        f"**{len(regressed)} scenario(s) regressed:** {', '.join(regressed)}"
        if regressed
        else "No regression: every judged figure is within the noise of its recent runs."
    )
    lines = ["## Regression gate (against the run history)", "", head, ""]
    lines += ["| " + " | ".join(HEADER) + " |", "|---|---|---:|---|---:|---|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in gate_rows(results)]
    notes = [(r.scenario, n) for r in results for n in r.notes]
    if notes:
        lines += ["", *[f"- {_md(s)}: {_md(n)}" for s, n in notes]]
    if results:
        p = results[0].policy
        lines += [
            "",
            f"Band: median ± {p.k:g} × 1.4826 × MAD of the last {p.window} runs of the "
            f"scenario with its expected verdict on the same host class (at least "
            f"{p.min_runs}){'; runs on a busy host left out' if p.exclude_busy else ''}. "
            "A regression is outside the band and worse than every baseline run; P(noise) is "
            "the rank bound (runs at least as bad + 1) / (n + 1), whatever the noise's shape.",
        ]
    return "\n".join(lines) + "\n"


def render_gate_json(results: Sequence[GateResult]) -> str:
    doc = {
        "schema": GATE_SCHEMA,
        "schema_version": GATE_SCHEMA_VERSION,
        "regressed": any(r.regressed for r in results),
        "scenarios": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def gate_junit_suite(results: Sequence[GateResult]) -> ET.Element:
    """``<testsuite name="hachaos.regression-gate">``: a testcase per scenario and figure;
    a regression is a ``<failure>``, a scenario without a baseline ``<skipped>``."""
    suite = ET.Element("testsuite", name="hachaos.regression-gate")
    tests = failures = skipped = 0
    for r in results:
        classname = fmt.printable(f"hachaos.gate.{r.scenario}")
        if not r.judged:
            case = ET.SubElement(suite, "testcase", classname=classname, name="baseline")
            ET.SubElement(case, "skipped", message=fmt.printable("; ".join(r.notes)))
            tests, skipped = tests + 1, skipped + 1
            continue
        cases = [("verdict", r.verdict_regressed, verdict_text(r))]
        cases += [
            (
                j.label,
                j.regressed,
                f"{fmt.measured(j.value, j.unit)}: {result_text(j)}; band {band_text(j)}",
            )
            for j in r.judgements
        ]
        for name, failed, message in cases:
            case = ET.SubElement(suite, "testcase", classname=classname, name=fmt.printable(name))
            tests += 1
            if failed:
                ET.SubElement(case, "failure", message=fmt.printable(message), type="regression")
                failures += 1
    for key, value in (
        ("tests", tests),
        ("failures", failures),
        ("errors", 0),
        ("skipped", skipped),
    ):
        suite.set(key, str(value))
    return suite


def add_to_junit(junit: str, results: Sequence[GateResult]) -> str:
    """A junit.xml document with the gate's testsuite added (totals updated)."""
    return append_testsuites(junit, [gate_junit_suite(results)])
