"""The SARIF output validates against the official 2.1.0 schema (vendored in fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from harness.audit.models import AuditResult, Finding
from harness.audit.sarif import render_sarif

SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_and_carries_each_finding() -> None:
    result = AuditResult(
        compose_file="compose/x.yaml",
        mode="static",
        findings=[
            Finding(
                "privileged", "critical", "web", "privileged", "remove it", file="c.yaml", line=4
            ),
            Finding("no-cap-drop", "low", "db", "keeps caps", "drop them", file="c.yaml", line=9),
        ],
        services=["db", "web"],
    )
    doc = json.loads(render_sarif(result))
    errors = list(_validator().iter_errors(doc))
    assert errors == []
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["privileged", "no-cap-drop"]
    assert [r["level"] for r in results] == ["error", "note"]
    region = results[0]["locations"][0]["physicalLocation"]
    assert region == {"artifactLocation": {"uri": "c.yaml"}, "region": {"startLine": 4}}
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results[1]["ruleIndex"]]["id"] == "no-cap-drop"


def test_the_schema_rejects_a_broken_log() -> None:
    # Proves the validation can fail: a result without a message is not SARIF.
    doc = json.loads(
        render_sarif(
            AuditResult("c.yaml", "static", [Finding("privileged", "critical", "w", "m", "f")])
        )
    )
    del doc["runs"][0]["results"][0]["message"]
    assert list(_validator().iter_errors(doc)) != []
