"""SARIF 2.1.0 rendering of an audit, so CI code scanning shows findings inline. Pure."""

from __future__ import annotations

import json
from typing import Any

from harness import __version__
from harness.audit.models import AuditResult, Severity
from harness.audit.rules import RULES

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL: dict[Severity, str] = {
    "low": "note",
    "medium": "warning",
    "high": "error",
    "critical": "error",
}
# GitHub code scanning ranks security results by this 0-10 score.
_SCORE: dict[Severity, str] = {"low": "2.0", "medium": "5.0", "high": "8.0", "critical": "9.5"}


def sarif_document(result: AuditResult) -> dict[str, Any]:
    """The SARIF log of one audit: every rule in the catalogue, one result per finding."""
    ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": r.id.title().replace("-", ""),
            "shortDescription": {"text": r.title},
            "help": {"text": r.fix},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {"security-severity": _SCORE[r.severity], "tags": ["security"]},
        }
        for r in RULES.values()
    ]
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": ids.index(f.rule),
            "level": _LEVEL[f.severity],
            "message": {"text": f"{f.service}: {f.message}. Fix: {f.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file or result.compose_file},
                        "region": {"startLine": max(f.line, 1)},
                    },
                    "logicalLocations": [{"name": f.service, "kind": "module"}],
                }
            ],
            "partialFingerprints": {"hachaosFinding/v1": f"{f.rule}:{f.service}:{f.message}"},
            "properties": {"severity": f.severity, "security-severity": _SCORE[f.severity]},
        }
        for f in result.findings
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hachaos-audit",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"mode": result.mode},
            }
        ],
    }


def render_sarif(result: AuditResult) -> str:
    """The SARIF log as indented JSON text."""
    return json.dumps(sarif_document(result), indent=2) + "\n"
