"""Reports of a suite (several runs): merged JUnit and a Markdown table. Pure: data in, text out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from harness.analysis.expectation import gave_expected
from harness.report import fmt
from harness.report.suite_facts import RunFacts


@dataclass(frozen=True)
class SuiteEntry:
    """One scenario of a suite and how its run ended."""

    scenario: str
    file: str
    verdict: str  # pass | fail | aborted | unchecked | error | interrupted | not run
    run_dir: str
    junit: str | None  # the run's junit.xml text, when it wrote one
    facts: RunFacts | None = None  # from the run's summary, when it wrote one
    link: str = ""  # the run's report.html, relative to the suite folder
    expected: str = "pass"  # the scenario's `expect`: pass | fail | aborted

    @property
    def as_expected(self) -> bool:
        """The run gave the verdict its scenario expects (``unchecked`` counts as a pass)."""
        return gave_expected(self.verdict, self.expected)

    @property
    def expected_text(self) -> str:
        """``fail`` when the run failed as expected, ``pass: UNEXPECTED`` when it did not."""
        return self.expected if self.as_expected else f"{self.expected}: UNEXPECTED"


def _suites(junit: str | None) -> list[ET.Element]:
    """The ``<testsuite>``s of a run's junit.xml; none when absent or unreadable."""
    if not junit:
        return []
    try:
        return list(ET.fromstring(junit).iter("testsuite"))
    except ET.ParseError:  # e.g. written by an older hachaos that let control characters in
        return []


def _expected_failures(suite: ET.Element, entry: SuiteEntry) -> None:
    """A run that failed as its scenario expects: each failed check becomes ``<skipped>``
    (like an expected failure in pytest), so CI stays green for a weakness shown on purpose."""
    moved = 0
    for case in suite.iter("testcase"):
        for failure in case.findall("failure"):
            case.remove(failure)
            message = fmt.printable(
                f"expected to {entry.expected} (expect: {entry.expected}): "
                + (failure.get("message") or "")
            )
            ET.SubElement(case, "skipped", message=message, type="expected")
            moved += 1
    suite.set("failures", str(int(suite.get("failures", "0")) - moved))
    suite.set("skipped", str(int(suite.get("skipped", "0")) + moved))


def _expectation_case(suite: ET.Element, entry: SuiteEntry) -> None:
    """One testcase more for a scenario that expects a verdict other than pass: it fails
    when the run did not give that verdict (e.g. a check that should fail passed)."""
    name = fmt.printable(f"hachaos.{entry.scenario}")
    case = ET.SubElement(suite, "testcase", classname=name, name=f"verdict is {entry.expected}")
    suite.set("tests", str(int(suite.get("tests", "0")) + 1))
    if not entry.as_expected:
        message = fmt.printable(f"expected {entry.expected}, got {entry.verdict}")
        ET.SubElement(case, "failure", message=message, type="unexpected verdict")
        suite.set("failures", str(int(suite.get("failures", "0")) + 1))


def merge_junit(entries: Sequence[SuiteEntry]) -> str:
    """One ``<testsuites>`` holding every run's ``<testsuite>``; runs without one get an error.

    A scenario that expects ``fail`` or ``aborted`` gets a testcase that checks it, and when
    its run gave that verdict its failed checks are reported as skipped (expected)."""
    root = ET.Element("testsuites", name="hachaos suite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for entry in entries:
        found = _suites(entry.junit)
        for suite in found:
            if entry.as_expected and entry.expected != "pass":
                _expected_failures(suite, entry)
        if found and entry.expected != "pass":
            _expectation_case(found[0], entry)
        for suite in found:
            root.append(suite)
            for key in totals:
                totals[key] += int(suite.get(key, "0"))
        if not found:
            name = fmt.printable(f"hachaos.{entry.scenario}")
            suite = ET.SubElement(root, "testsuite", name=name, tests="1", errors="1")
            suite.set("failures", "0")
            case = ET.SubElement(suite, "testcase", classname=name, name="run")
            what = "no readable junit.xml" if entry.junit else "no junit.xml"
            message = fmt.printable(
                f"{entry.verdict}: {what} from this run ({entry.run_dir or 'not run'})"
            )
            ET.SubElement(case, "error", message=message, type=fmt.printable(entry.verdict))
            totals["tests"] += 1
            totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


ORDER = {
    "interrupted": 0,
    "error": 1,
    "aborted": 2,
    "fail": 2,
    "not run": 3,
    "unchecked": 4,
    "pass": 5,
}
"""Verdicts, worst first: the suite's tables list their rows in this order."""

COLUMNS = (
    "verdict",
    "expected",
    "scenario",
    "availability",
    "p99",
    "worst time to recover",
    "lost writes",
    "isolation",
    "audit",
)


def worst_first(entries: Sequence[SuiteEntry]) -> list[SuiteEntry]:
    """Unexpected verdicts first, each group by verdict (worst first), then by scenario name."""
    return sorted(entries, key=lambda e: (e.as_expected, ORDER.get(e.verdict, 0), e.scenario))


def counts_line(entries: Sequence[SuiteEntry]) -> str:
    """E.g. ``3 scenarios: 1 fail, 2 pass; 1 unexpected``."""
    counts = {v: sum(1 for e in entries if e.verdict == v) for v in ORDER}
    head = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    unexpected = sum(1 for e in entries if not e.as_expected)
    tail = f"{unexpected} unexpected" if unexpected else "all as expected"
    return f"{len(entries)} scenarios: {head or 'none'}; {tail}"


def ttr_text(f: RunFacts) -> str:
    """The slowest recovery of the run, or how many faults never recovered."""
    if f.unrecovered:
        return f"{f.unrecovered} not recovered"
    if f.worst_ttr_s is None:
        return "no fault" if not f.faults else fmt.MISSING
    return f"{f.worst_ttr_s:.2f} s"


def lost_text(f: RunFacts) -> str:
    """Lost (and corrupt) acknowledged writes; a dash when no durability check ran."""
    if f.durability_error:
        return "could not check"
    if f.lost_writes is None:
        return "not checked"
    text = f"{f.lost_writes:,}"
    if f.acked_writes is not None:
        text += f" of {f.acked_writes:,}"
    if f.corrupt_writes:
        text += f", {f.corrupt_writes:,} corrupt"
    return text


def isolation_text(f: RunFacts) -> str:
    """``ok``, the violations, or ``not checked``."""
    if not f.isolation_checked:
        return "not checked"
    if not f.denied_open and not f.allowed_closed:
        return "ok"
    return f"{f.denied_open} denied open, {f.allowed_closed} allowed closed"


def audit_text(f: RunFacts) -> str:
    """Findings of the live audit by severity (critical and high first)."""
    if f.audit_error:
        return "could not run"
    if f.audit is None:
        return "not run"
    a = f.audit
    text = f"{a['high']} high, {a['medium']} medium"
    return f"{a['critical']} critical, {text}" if a["critical"] else text


def row_cells(e: SuiteEntry) -> list[str]:
    """The text of one suite row, in COLUMNS order (no markup)."""
    f = e.facts
    if f is None:
        return [e.verdict, e.expected_text, e.scenario, *[fmt.MISSING] * (len(COLUMNS) - 3)]
    return [
        e.verdict,
        e.expected_text,
        e.scenario,
        fmt.pct(f.availability, 2),
        fmt.ms(f.p99_ms),
        ttr_text(f),
        lost_text(f),
        isolation_text(f),
        audit_text(f),
    ]


def _md(text: str) -> str:
    """A table cell: control characters shown, no `|` or backtick to break the row."""
    return fmt.printable(text).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def render_suite_markdown(entries: Sequence[SuiteEntry]) -> str:
    """A table of every run's verdict and headline figures, worst verdicts first."""
    lines = [
        "# hachaos suite",
        "",
        counts_line(entries),
        "",
        "| " + " | ".join((*COLUMNS[:3], "file", *COLUMNS[3:], "report")) + " |",
        "|---|---|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for e in worst_first(entries):
        cells = [_md(c) for c in row_cells(e)]
        cells.insert(3, f"`{_md(e.file)}`")
        lines.append("| " + " | ".join(cells) + f" | `{_md(e.link or e.run_dir or '-')}` |")
    busy = [(e.scenario, e.facts.host_note) for e in entries if e.facts and e.facts.host_note]
    if busy:
        lines += ["", "Timing figures of runs on a busy host may be inflated by other work:", ""]
        lines += [f"- {_md(name)}: {_md(note)}" for name, note in busy]
    return "\n".join(lines) + "\n"


SUITE_SCHEMA = "hachaos.suite"
SUITE_SCHEMA_VERSION = 1


def render_suite_json(entries: Sequence[SuiteEntry], meta: dict[str, Any]) -> str:
    """suite.json: every scenario's verdict, headline figures and where its run lives."""
    rows = []
    for e in entries:
        f = e.facts
        rows.append(
            {
                "scenario": e.scenario,
                "file": e.file,
                "verdict": e.verdict,
                "expected": e.expected,
                "as_expected": e.as_expected,
                "run_dir": e.run_dir or None,
                "copy": e.link.rsplit("/", 1)[0] if e.link else None,
                "availability": f.availability if f else None,
                "p99_ms": f.p99_ms if f else None,
                "latency_kind": f.latency_kind if f else None,
                "worst_ttr_s": f.worst_ttr_s if f else None,
                "unrecovered": f.unrecovered if f else None,
                "lost_writes": f.lost_writes if f else None,
                "corrupt_writes": f.corrupt_writes if f else None,
                "isolation": isolation_text(f) if f else None,
                "audit": dict(f.audit) if f and f.audit is not None else None,
                "checks_passed": f.checks_passed if f else None,
                "checks_failed": f.checks_failed if f else None,
            }
        )
    doc = {
        "schema": SUITE_SCHEMA,
        "schema_version": SUITE_SCHEMA_VERSION,
        **meta,
        "counts": {v: sum(1 for e in entries if e.verdict == v) for v in ORDER},
        "unexpected": sum(1 for e in entries if not e.as_expected),
        "scenarios": rows,
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"
