"""Findings point at the line of the offending key, or of their service when it is missing."""

from __future__ import annotations

import yaml

from harness.audit.review import review

TEXT = """\
services:
  web:
    image: x
    privileged: true
    user: root
  db:
    image: y
"""


def test_finding_lines() -> None:
    raw = yaml.safe_load(TEXT)
    result = review(raw, TEXT, "c.yaml")
    lines = {(f.service, f.rule): f.line for f in result.findings}
    assert lines[("web", "privileged")] == 4
    assert lines[("web", "root-user")] == 5
    assert lines[("web", "writable-root-fs")] == 2  # missing key: the service's line
    assert lines[("db", "root-user")] == 6
    assert {f.file for f in result.findings} == {"c.yaml"}
    assert result.findings[0].location() == "c.yaml:4"  # critical first
