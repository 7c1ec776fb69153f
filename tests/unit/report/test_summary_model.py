"""The typed summary: its JSON Schema, strict reading of summary.json, old and foreign files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hachaos_runfolder import kill_run, summary_doc
from pydantic import ValidationError
from typer.testing import CliRunner

from harness.analysis.compare import compare_runs
from harness.analysis.summary_model import (
    FailureSpan,
    Summary,
    SummaryError,
    parse_summary,
    read_summary,
    summary_json_schema,
)
from harness.cli.app import app
from harness.report.json import render_json
from harness.report.pipeline import render_run

SCHEMA_FILE = Path(__file__).parents[3] / "docs" / "summary.schema.json"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic kill run rendered by the real pipeline (summary.json on disk)."""
    run = kill_run(tmp_path_factory.mktemp("kill") / "run", {"availability": {"overall": 0.9}})
    render_run(run)
    return run


def _doc(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    return data


# ----------------------------------------------------------------------------- JSON Schema
def test_checked_in_schema_is_the_generated_one() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == summary_json_schema(), (
        "regenerate it: hachaos schema --summary > docs/summary.schema.json"
    )


def test_schema_cli_prints_the_summary_schema() -> None:
    result = CliRunner().invoke(app, ["schema", "--summary"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    scenario = CliRunner().invoke(app, ["schema"])  # without the flag: still the scenario schema
    assert scenario.exit_code == 0 and "faults" in json.loads(scenario.stdout)["properties"]


def test_a_real_summary_validates_against_the_published_schema(real_run: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = _doc(real_run)
    assert doc["faults"] and doc["checks"]  # the run exercises faults and checks
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    typo = copy.deepcopy(doc)
    typo["faults"][0]["ttr"] = typo["faults"][0].pop("ttr_s")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema, cls=jsonschema.Draft202012Validator)


# ----------------------------------------------------------------------------- reading
def test_summary_json_round_trips_byte_for_byte(real_run: Path) -> None:
    text = (real_run / "summary.json").read_text(encoding="utf-8")
    assert render_json(read_summary(real_run / "summary.json")) == text


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("verdcit",), "verdcit: Extra inputs are not permitted"),
        (("headline", "p99"), "headline.p99: Extra inputs are not permitted"),
        (("faults", 0, "ttr"), "faults.0.ttr: Extra inputs are not permitted"),
    ],
)
def test_an_unknown_key_is_refused_where_it_is(
    real_run: Path, path: tuple[str | int, ...], where: str
) -> None:
    doc = _doc(real_run)
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = 1
    with pytest.raises(SummaryError) as err:
        parse_summary(doc, "x/summary.json")
    assert where in err.value.message
    assert err.value.message.startswith("x/summary.json (schema_version 1) does not match")
    assert err.value.exit_code == 2


def test_a_typo_is_an_error_in_code_too() -> None:
    # pydantic's mypy plugin flags these statically; at run time they raise as well.
    with pytest.raises(ValidationError, match="secnods"):
        FailureSpan(secnods=1.0, start_s=None)  # type: ignore[call-arg]
    span = FailureSpan(seconds=1.0, start_s=None)
    with pytest.raises(ValidationError, match="frozen"):
        span.seconds = 2.0
    with pytest.raises(AttributeError):
        _ = span.secnods  # type: ignore[attr-defined]


def test_a_summary_written_before_audit_isolation_durability_and_mechanism_reads(
    real_run: Path,
) -> None:
    # Those fields were added within version 1: an older file lacks them and stays as it was.
    old = _doc(real_run)
    for key in ("audit", "isolation", "durability"):
        del old[key]
    for fault in old["faults"]:
        del fault["mechanism"]
    summary = parse_summary(old)
    assert (summary.audit, summary.isolation, summary.durability) == (None, None, None)
    assert summary.faults[0].mechanism is None
    assert summary.to_json_dict() == old
    assert not compare_runs(summary, parse_summary(_doc(real_run))).regressed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 2}, "(schema_version 2) does not match"),
        ({"verdict": "green"}, "verdict: Input should be 'pass', 'fail'"),
        ({"headline": {"availability": 1.0}}, "headline.requests: Field required"),
        ({"schema": "other"}, 'is not a hachaos summary (no "schema": "hachaos.summary")'),
    ],
)
def test_a_foreign_or_newer_summary_is_refused_clearly(
    change: dict[str, Any], message: str
) -> None:
    doc = summary_doc("r", **change)
    with pytest.raises(SummaryError) as err:
        parse_summary(doc, "base/summary.json")
    assert message in err.value.message
    assert err.value.hint is not None and "hachaos report" in err.value.hint


def test_an_unreadable_file_is_a_summary_error(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SummaryError, match="cannot read"):
        read_summary(tmp_path / "summary.json")


def test_compare_cli_refuses_a_foreign_summary_with_exit_2(real_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps(summary_doc(extra_field=1)), encoding="utf-8")
    result = CliRunner().invoke(app, ["compare", str(real_run), str(other)])
    assert result.exit_code == 2
    assert "extra_field: Extra inputs are not permitted" in result.output
    assert not (other / "compare.md").exists()


def test_the_minimal_document_of_the_tests_is_a_summary() -> None:
    assert isinstance(parse_summary(summary_doc()), Summary)


def test_a_run_json_blob_that_does_not_fit_is_a_clear_exit_2(tmp_path: Path) -> None:
    # e.g. a run made by another hachaos whose run.json generator has a key this one lacks
    run = kill_run(tmp_path / "run")
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    meta["generator"] = {"saturated": False, "gpu_max": 1.0}
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 2
    assert "Generator.gpu_max: Extra inputs are not permitted" in result.output
    assert "Traceback" not in result.output
