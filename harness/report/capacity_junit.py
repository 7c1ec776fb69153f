"""junit.xml of a capacity experiment: a testcase per check and per configuration."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from harness.analysis.capacity.document import CapacityDocument
from harness.report import capacity_rows as rows
from harness.report import fmt


def _x(text: object) -> str:
    return fmt.printable(str(text))


def render_capacity_junit(doc: CapacityDocument) -> str:
    """Failed checks are ``<failure>``s; a configuration that could not be measured, or an
    experiment that failed or was interrupted, an ``<error>``; each configuration's
    capacity is a passing testcase (so a nightly's trend tools see the number)."""
    name = _x(f"hachaos.capacity.{doc.scenario}")
    suite = ET.Element("testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="hachaos.verdict", value=_x(doc.verdict))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    def case(title: str) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=name, name=_x(title))

    for config in doc.configurations:
        element = case(f"capacity {config.label}")
        if config.error:
            counts["errors"] += 1
            ET.SubElement(element, "error", message=_x(config.error), type="configuration")
            continue
        out = ET.SubElement(element, "system-out")
        out.text = _x(
            f"capacity {rows.capacity_text(config.healthy)}; with the faults held"
            f" {rows.capacity_text(config.degraded)}"
        )
    for check in doc.checks:
        element = case(check.name)
        if not check.passed:
            counts["failures"] += 1
            message = _x(
                f"measured {fmt.measured(check.measured, check.unit)}, threshold"
                f" {fmt.measured(check.threshold, check.unit)}"
            )
            failure = ET.SubElement(element, "failure", message=message, type="capacity")
            failure.text = message + (f"; {_x(check.detail)}" if check.detail else "")
    if doc.verdict in ("error", "interrupted"):
        element = case("experiment completed")
        counts["errors"] += 1
        reasons = _x("; ".join(doc.verdict_reasons) or doc.verdict)
        ET.SubElement(element, "error", message=reasons, type=doc.verdict)
    elif doc.verdict == "unchecked":
        element = case("checks")
        counts["skipped"] += 1
        ET.SubElement(element, "skipped", message=_x("; ".join(doc.verdict_reasons)))
    for key, value in counts.items():
        suite.set(key, str(value))
    suites = ET.Element("testsuites", name="hachaos")
    suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
