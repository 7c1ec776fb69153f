"""examples/ci: the GitHub Actions and GitLab CI examples parse, match the official JSON
Schemas (vendored: tests/fixtures/ci-schemas/README.md) and do what docs/ci.md says."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "fixtures" / "ci-schemas"


def load_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    # YAML 1.1 (PyYAML) reads the key `on` as True; GitHub reads YAML 1.2, where it is "on".
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(v: jsonschema.Draft7Validator, doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


@pytest.fixture(scope="module")
def github() -> dict[str, Any]:
    return load_yaml(ROOT / "examples" / "ci" / "github-actions.yml")


@pytest.fixture(scope="module")
def gitlab() -> dict[str, Any]:
    return load_yaml(ROOT / "examples" / "ci" / "gitlab-ci.yml")


def test_github_workflow_matches_the_schema(github: dict[str, Any]) -> None:
    assert errors(validator("github-workflow.json"), github) == []


def test_gitlab_pipeline_matches_the_schema(gitlab: dict[str, Any]) -> None:
    assert errors(validator("gitlab-ci.json"), gitlab) == []


def test_the_schemas_catch_mistakes(github: dict[str, Any], gitlab: dict[str, Any]) -> None:
    """Guard against a schema that accepts anything."""
    bad = copy.deepcopy(github)
    bad["jobs"]["suite"]["runs_on"] = bad["jobs"]["suite"].pop("runs-on")
    assert errors(validator("github-workflow.json"), bad)
    bad = copy.deepcopy(gitlab)
    bad["hachaos-suite"]["artifacts"]["reports"]["junit_xml"] = "suite/junit.xml"
    assert errors(validator("gitlab-ci.json"), bad)


def test_github_runs_the_nightly_suite_and_publishes_everything(github: dict[str, Any]) -> None:
    assert github["on"]["schedule"][0]["cron"]
    steps = github["jobs"]["suite"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "hachaos suite scenarios" in runs and "'nightly'" in runs
    assert "summary.md" in runs and '>> "$GITHUB_STEP_SUMMARY"' in runs
    assert "hachaos cleanup" in runs
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    upload = uses["actions/upload-artifact"]
    assert upload["with"]["path"] == "${{ env.SUITE_DIR }}" and upload["if"].startswith("always()")
    junit = uses["mikepenz/action-junit-report"]
    assert junit["with"]["report_paths"].endswith("junit.xml")
    for step in steps[steps.index(upload) - 2 :]:
        assert step.get("if", "").startswith("always()"), step  # also after a failed suite


def test_gitlab_keeps_the_suite_folder_and_the_junit(gitlab: dict[str, Any]) -> None:
    job = gitlab["hachaos-suite"]
    assert "hachaos suite scenarios" in " ".join(job["script"])
    assert any("hachaos cleanup" in line for line in job["after_script"])
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["paths"] == ["suite/"] and artifacts["reports"]["junit"] == "suite/junit.xml"


def test_github_keeps_the_history_gates_on_it_and_publishes_the_trend(
    github: dict[str, Any],
) -> None:
    job = github["jobs"]["suite"]
    assert job["env"]["HACHAOS_HISTORY"] == "reports/history.sqlite"
    steps = job["steps"]
    uses = [(s["uses"].split("@")[0], s) for s in steps if "uses" in s]
    restore = next(s for u, s in uses if u == "actions/cache/restore")
    save = next(s for u, s in uses if u == "actions/cache/save")
    assert restore["with"]["path"] == save["with"]["path"] == "reports/history.sqlite"
    assert restore["with"]["restore-keys"] == "hachaos-history-"
    assert save["if"].startswith("always()")
    suite = next(s for s in steps if "hachaos suite" in s.get("run", ""))
    assert steps.index(restore) < steps.index(suite) < steps.index(save)
    assert "--baseline history" in suite["run"]
    trend = next(s for s in steps if "hachaos trend" in s.get("run", ""))
    upload = next(
        s for u, s in uses if u == "actions/upload-artifact" and "trend" in s["with"]["path"]
    )
    assert steps.index(trend) < steps.index(upload) and upload["if"].startswith("always()")


def test_gitlab_caches_the_history_and_keeps_the_trend(gitlab: dict[str, Any]) -> None:
    job = gitlab["hachaos-suite"]
    assert gitlab["variables"]["HACHAOS_HISTORY"] == "reports/history.sqlite"
    assert job["cache"]["paths"] == ["reports/history.sqlite"]
    assert job["cache"]["policy"] == "pull-push"
    assert "--baseline history" in " ".join(job["script"])
    assert any("hachaos trend --out suite/trend.html" in line for line in job["after_script"])
