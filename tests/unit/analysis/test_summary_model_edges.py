"""summary_model's messages, hints and helpers, exact (harness/analysis/summary_model.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.analysis.summary_model import (
    AuditFinding,
    LatencyByKind,
    SummaryError,
    parse_summary,
    problems,
    read_summary,
)

MISSING_5 = (
    "rule: Field required; severity: Field required; service: Field required; "
    "message: Field required; fix: Field required"
)


def errors_of(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        AuditFinding.model_validate(data)
    return err.value


def test_problems_lists_five_and_counts_the_rest() -> None:
    assert problems(errors_of({})) == MISSING_5  # exactly 5 errors: no "more"
    assert problems(errors_of({"x": 1})) == MISSING_5 + " (+1 more)"  # 5 missing + 1 unknown
    assert problems(errors_of({"x": 1, "y": 2})) == MISSING_5 + " (+2 more)"
    assert problems(errors_of({}), limit=2) == (
        "rule: Field required; severity: Field required (+3 more)"
    )


def test_a_root_error_is_named_root() -> None:
    assert problems(errors_of(1)).startswith("<root>: ")


def test_parse_summary_names_its_source_and_says_what_to_do() -> None:
    with pytest.raises(SummaryError) as err:
        parse_summary([])
    assert (
        err.value.message
        == 'summary.json is not a hachaos summary (no "schema": "hachaos.summary")'
    )
    assert err.value.hint == (
        "point at a run folder made by `hachaos run`, or run `hachaos report RUN_DIR`"
    )
    with pytest.raises(SummaryError) as err:
        parse_summary({"schema": "hachaos.summary", "schema_version": 1})
    assert err.value.message.startswith(
        "summary.json (schema_version 1) does not match the summary this hachaos reads "
        "(version 1): "
    )
    assert err.value.hint == "re-create it from the run's raw data with `hachaos report RUN_DIR`"


def test_read_summary_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "run" / "summary.json"
    with pytest.raises(SummaryError) as err:
        read_summary(missing)
    assert err.value.message.startswith(f"cannot read {missing}: ")
    assert err.value.hint == f"run `hachaos report {tmp_path / 'run'}` first"
    foreign = tmp_path / "summary.json"
    foreign.write_text('{"schema": "other"}', encoding="utf-8")
    with pytest.raises(SummaryError) as err:
        read_summary(foreign)
    assert err.value.message == (
        f'{foreign} is not a hachaos summary (no "schema": "hachaos.summary")'
    )


def test_latency_by_kind_of() -> None:
    both = LatencyByKind(raw={"p99": 1.0}, corrected={"p99": 2.0})
    assert both.of("corrected") == {"p99": 2.0}
    assert both.of("raw") == {"p99": 1.0}
    raw_only = LatencyByKind(raw={"p99": 1.0}, corrected=None)
    assert raw_only.of("corrected") == {}
    assert LatencyByKind(raw={}, corrected=None).of("raw") == {}
