"""junit.xml: one testcase per SLO check, for CI test reporting."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from harness.analysis.summary_model import Summary
from harness.report import fmt
from harness.report.guards_section import abort_rows


def _x(text: object) -> str:
    """Text safe in XML 1.0: ElementTree escapes markup but not forbidden characters."""
    return fmt.printable(str(text))


def render_junit(summary: Summary) -> str:
    """JUnit XML: failed checks are ``<failure>``s; harness errors are an ``<error>`` case.

    A run without checks (verdict ``unchecked``) gets one ``<skipped>`` case, so that
    CI shows it was not judged rather than a green, empty suite. The verdict is also
    a ``<property>`` of the suite.
    """
    s = summary
    name = _x(f"hachaos.{s.run.scenario or 'run'}")
    suite = ET.Element("testsuite", name=name)
    _properties(ET.SubElement(suite, "properties"), s)
    for c in s.checks:
        case = ET.SubElement(suite, "testcase", classname=name, name=_x(c.name))
        if not c.passed:
            message = _x(
                f"measured {fmt.measured(c.measured, c.unit)}, "
                f"threshold {fmt.measured(c.threshold, c.unit)} (phase {c.phase})"
            )
            failure = ET.SubElement(case, "failure", message=message, type="SLO")
            failure.text = message + (f"; {_x(c.detail)}" if c.detail else "")
    _verdict_case(suite, name, s)
    suite.set("tests", str(len(suite.findall("testcase"))))
    for attribute, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attribute, str(len(suite.findall(f"testcase/{tag}"))))
    suites = ET.Element("testsuites", name="hachaos")
    suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def _properties(props: ET.Element, s: Summary) -> None:
    ET.SubElement(props, "property", name="hachaos.verdict", value=_x(s.verdict))
    if s.expect is not None:  # informative: the run's cases keep its own pass/fail
        ET.SubElement(props, "property", name="hachaos.expect", value=s.expect.verdict)
        ET.SubElement(props, "property", name="hachaos.expect.met", value=str(s.expect.met).lower())
    if s.host is not None and s.host.busy:
        ET.SubElement(props, "property", name="hachaos.host", value=_x(s.host.note))


def _verdict_case(suite: ET.Element, name: str, s: Summary) -> None:
    """A case for a run that did not complete, was aborted or was not judged."""
    if s.verdict in ("error", "interrupted"):
        case = ET.SubElement(suite, "testcase", classname=name, name="run completed")
        reasons = _x("; ".join(s.verdict_reasons) or s.verdict)
        error = ET.SubElement(case, "error", message=reasons, type=s.verdict)
        error.text = _x("\n".join([*s.errors, *s.warnings])) or reasons
    elif s.verdict == "aborted" and s.abort is not None:
        # A stop condition held: a failing case of its own (exit 1, like a failed check).
        case = ET.SubElement(suite, "testcase", classname=name, name="abort conditions")
        message = _x("; ".join(s.verdict_reasons) or "aborted")
        failure = ET.SubElement(case, "failure", message=message, type="abort")
        failure.text = _x("\n".join(f"{k}: {v}" for k, v in abort_rows(s) or []))
    elif s.verdict == "unchecked":
        case = ET.SubElement(suite, "testcase", classname=name, name="checks")
        reasons = _x("; ".join(s.verdict_reasons) or "the scenario defines no checks")
        ET.SubElement(case, "skipped", message=reasons)


def append_testsuites(junit: str, suites: Sequence[ET.Element]) -> str:
    """A junit.xml document with more ``<testsuite>``s appended, the root's totals updated."""
    root = ET.fromstring(junit)
    if root.tag != "testsuites":
        wrapper = ET.Element("testsuites", name="hachaos")
        wrapper.append(root)
        root = wrapper
    for suite in suites:
        root.append(suite)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in root.iter("testsuite"))))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
