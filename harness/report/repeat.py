"""Reports of repeated runs (`--repeat N`): spreads per figure, flaky scenarios. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from harness.analysis.repeat import FigureSpread, RepeatResult
from harness.report import fmt

REPEAT_SCHEMA = "hachaos.repeat"
HEADER = ("scenario", "figure", "mean ± sd", "95 % CI of the mean", "min … max", "values")


def _m(value: float | None, f: FigureSpread) -> str:
    return fmt.measured(value, f.figure.unit)


def _stat(value: float | None, f: FigureSpread) -> str:
    """A mean, deviation or interval bound: counts get decimals (a mean of 0, 0, 1)."""
    if value is not None and f.figure.unit in ("count", "writes"):
        return f"{value:,.2f}"
    return _m(value, f)


def _bound(value: float | None, f: FigureSpread) -> float | None:
    """An interval bound as the figure can be: no negative time, no availability above 1."""
    if value is None:
        return None
    return min(max(value, 0.0), 1.0) if f.figure.unit == "ratio" else max(value, 0.0)


def spread_cells(f: FigureSpread) -> list[str]:
    s = f.spread
    values = ", ".join(_m(v, f) for v in f.values)
    if s is None:
        return [fmt.MISSING, fmt.MISSING, fmt.MISSING, values]
    sd = (
        ""
        if s.sd is None
        else f" ± {_stat(s.sd, f) if f.figure.unit != 'ratio' else fmt.pct(s.sd)}"
    )
    ci = fmt.MISSING
    if s.ci_low is not None:
        ci = f"{_stat(_bound(s.ci_low, f), f)} … {_stat(_bound(s.ci_high, f), f)}"
    return [f"{_stat(s.mean, f)}{sd}", ci, f"{_m(s.low, f)} … {_m(s.high, f)}", values]


def verdict_line(r: RepeatResult) -> str:
    """``pass, fail, pass: FLAKY (flipped: availability overall >= 99% [overall])``."""
    text = ", ".join(r.verdicts)
    if not r.flaky:
        return f"{text}: stable"
    if r.flipped:
        return f"{text}: FLAKY (flipped: {'; '.join(r.flipped)})"
    return f"{text}: FLAKY (no check flipped: a run ended in an error or was interrupted)"


def repeat_rows(results: Sequence[RepeatResult]) -> list[list[str]]:
    return [[r.scenario, f.figure.label, *spread_cells(f)] for r in results for f in r.figures]


def _md(text: str) -> str:
    return fmt.printable(text).replace("|", "\\|").replace("\n", " ")


def render_repeat_markdown(results: Sequence[RepeatResult]) -> str:
    n = max((len(r.runs) for r in results), default=0)
    flaky = [r.scenario for r in results if r.flaky]
    lines = [
        f"## Repeated runs ({n} per scenario)",
        "",
        f"**Flaky** (the verdict differs between repetitions): {', '.join(flaky)}"
        if flaky
        else "No scenario is flaky: every repetition gave the same verdict.",
        "",
        *[f"- {_md(r.scenario)}: {_md(verdict_line(r))}" for r in results],
        "",
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---:|---:|---:|---|",
        *["| " + " | ".join(_md(c) for c in row) + " |" for row in repeat_rows(results)],
        "",
        "The 95 % confidence interval is Student's t interval of the mean over the repetitions.",
    ]
    return "\n".join(lines) + "\n"


def render_repeat_json(results: Sequence[RepeatResult]) -> str:
    doc = {
        "schema": REPEAT_SCHEMA,
        "schema_version": 1,
        "flaky": [r.scenario for r in results if r.flaky],
        "scenarios": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def repeat_junit_suite(results: Sequence[RepeatResult]) -> ET.Element:
    """``hachaos.repeat``: per scenario one testcase 'verdict stable over N runs', failed
    (type ``flaky``) when the verdict differed between repetitions."""
    suite = ET.Element("testsuite", name="hachaos.repeat")
    failures = 0
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=fmt.printable(f"hachaos.repeat.{r.scenario}"),
            name=f"verdict stable over {len(r.runs)} runs",
        )
        if r.flaky:
            failures += 1
            ET.SubElement(case, "failure", message=fmt.printable(verdict_line(r)), type="flaky")
    suite.set("tests", str(len(results)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite
