"""Reports of a suite (several runs): merged JUnit and a Markdown table. Pure: data in, text out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from harness.report import fmt


@dataclass(frozen=True)
class SuiteEntry:
    """One scenario of a suite and how its run ended."""

    scenario: str
    file: str
    verdict: str  # pass | fail | aborted | unchecked | error | interrupted | not run
    run_dir: str
    junit: str | None  # the run's junit.xml text, when it wrote one


def _suites(junit: str | None) -> list[ET.Element]:
    """The ``<testsuite>``s of a run's junit.xml; none when absent or unreadable."""
    if not junit:
        return []
    try:
        return list(ET.fromstring(junit).iter("testsuite"))
    except ET.ParseError:  # e.g. written by an older hachaos that let control characters in
        return []


def merge_junit(entries: Sequence[SuiteEntry]) -> str:
    """One ``<testsuites>`` holding every run's ``<testsuite>``; runs without one get an error."""
    root = ET.Element("testsuites", name="hachaos suite")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for entry in entries:
        found = _suites(entry.junit)
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


def _md(text: str) -> str:
    """A table cell: control characters shown, no `|` or backtick to break the row."""
    return fmt.printable(text).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def render_suite_markdown(entries: Sequence[SuiteEntry]) -> str:
    """A table of scenario, verdict and run folder, worst verdicts first."""
    order = {
        "interrupted": 0,
        "error": 1,
        "aborted": 2,
        "fail": 2,
        "not run": 3,
        "unchecked": 4,
        "pass": 5,
    }
    rows = sorted(entries, key=lambda e: (order.get(e.verdict, 0), e.scenario))
    counts = {v: sum(1 for e in entries if e.verdict == v) for v in order}
    head = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines = [
        "# hachaos suite",
        "",
        f"{len(entries)} scenarios: {head or 'none'}",
        "",
        "| verdict | scenario | file | run folder |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {_md(e.verdict)} | {_md(e.scenario)} | `{_md(e.file)}` | `{_md(e.run_dir or '-')}` |"
        for e in rows
    ]
    return "\n".join(lines) + "\n"
