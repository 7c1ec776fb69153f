"""junit.xml: one testcase per SLO check, for CI test reporting."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from harness.report import fmt


def render_junit(summary: dict[str, Any]) -> str:
    """JUnit XML: failed checks are ``<failure>``s; harness errors are an ``<error>`` case."""
    s = summary
    name = f"hachaos.{s['run'].get('scenario') or 'run'}"
    suite = ET.Element("testsuite", name=name)
    cases = 0
    failures = errors = 0
    for c in s["checks"]:
        case = ET.SubElement(suite, "testcase", classname=name, name=c["name"])
        cases += 1
        if not c["passed"]:
            failures += 1
            message = (
                f"measured {fmt.measured(c)}, threshold {fmt.measured(c, 'threshold')} "
                f"(phase {c['phase']})"
            )
            failure = ET.SubElement(case, "failure", message=message, type="SLO")
            failure.text = message + (f"; {c['detail']}" if c.get("detail") else "")
    if s["verdict"] in ("error", "interrupted"):
        case = ET.SubElement(suite, "testcase", classname=name, name="run completed")
        cases += 1
        errors += 1
        reasons = "; ".join(s["verdict_reasons"]) or s["verdict"]
        error = ET.SubElement(case, "error", message=reasons, type=s["verdict"])
        error.text = "\n".join([*s["errors"], *s["warnings"]]) or reasons
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suites = ET.Element("testsuites", name="hachaos")
    suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
