"""The durability check and its report sections, on synthetic run folders with known answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hachaos_runfolder import kill_run

from harness.analysis.inputs import load_run
from harness.analysis.slo import durability_check
from harness.analysis.summary import analyse
from harness.analysis.summary_model import parse_summary
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown

NAME = "durability: lost acknowledged writes <= 1"


def _result(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": "synthetic-1",
        "acked": 500,
        "selected": 500,
        "checked": 498,
        "ok": 495,
        "lost": 2,
        "corrupt": 1,
        "unknown": 0,
        "unchecked": 2,
        "sampled": False,
        "elapsed_s": 1.5,
        "lost_ids": ["id-a", "id-b"],
        "corrupt_ids": ["id-c"],
        "unknown_reasons": {},
        "error": None,
        "notes": [],
    }
    data.update(overrides)
    return data


def _summary(tmp_path: Path, durability: dict[str, Any] | None) -> dict[str, Any]:
    run = kill_run(tmp_path / "run", {"durability": {"max_lost": 1}})
    if durability is not None:
        (run / "durability.json").write_text(json.dumps(durability))
    return analyse(load_run(run)).to_json_dict()


def _check(summary: dict[str, Any]) -> dict[str, Any]:
    (check,) = [c for c in summary["checks"] if c["name"].startswith("durability:")]
    return check


def test_lost_plus_corrupt_is_measured(tmp_path: Path) -> None:
    s = _summary(tmp_path, _result())
    check = _check(s)
    assert check["name"] == NAME
    assert (check["measured"], check["threshold"], check["unit"]) == (3.0, 1.0, "writes")
    assert (check["phase"], check["passed"]) == ("after", False)
    assert s["durability"]["lost_ids"] == ["id-a", "id-b"]
    assert s["verdict"] == "fail"
    assert any("2 of 500 read-backs gave no definite answer" in w for w in s["warnings"])


def test_within_the_allowance_passes(tmp_path: Path) -> None:
    s = _summary(tmp_path, _result(ok=497, lost=1, corrupt=0, unchecked=0, checked=498))
    assert (_check(s)["measured"], _check(s)["passed"]) == (1.0, True)


@pytest.mark.parametrize(
    ("durability", "why"),
    [
        (None, "durability.json is missing"),
        (_result(error="the durability check failed: boom", checked=0), "boom"),
        (_result(ok=0, lost=0, corrupt=0, unknown=500, unchecked=0, checked=500), "none of 500"),
    ],
)
def test_a_required_check_that_could_not_run_is_an_error(
    tmp_path: Path, durability: dict[str, Any] | None, why: str
) -> None:
    s = _summary(tmp_path, durability)
    check = _check(s)
    assert check["measured"] is None and check["passed"] is False
    assert why in check["detail"]
    assert s["verdict"] == "error"
    assert any(why in r for r in s["verdict_reasons"])


def test_no_acknowledged_write_is_a_vacuous_pass_with_a_warning(tmp_path: Path) -> None:
    empty = _result(acked=0, selected=0, checked=0, ok=0, lost=0, corrupt=0, unchecked=0)
    s = _summary(tmp_path, empty)
    assert (_check(s)["measured"], _check(s)["passed"]) == (0.0, True)
    assert any("no acknowledged write" in w for w in s["warnings"])


def test_direct_check_counts() -> None:
    check = durability_check(0, _result(lost=0, corrupt=0))
    assert (check.measured, check.passed) == (0.0, True)
    assert "500 acknowledged, 495 read back" in check.detail


def test_reports_show_the_durability_table(tmp_path: Path) -> None:
    s = _summary(tmp_path, _result())
    md = render_markdown(parse_summary(s))
    assert "### Durability" in md
    assert "| lost (read says missing) | 2 |" in md
    assert "| lost ids | id-a, id-b |" in md
    html = render_html(parse_summary(s))
    assert "<h2>Durability</h2>" in html and "id-c" in html
    junit = render_junit(parse_summary(s))
    assert NAME.replace("<", "&lt;") in junit
    assert "measured 3, threshold 1" in junit


def test_no_durability_section_without_the_check(tmp_path: Path) -> None:
    s = analyse(load_run(kill_run(tmp_path / "run"))).to_json_dict()
    assert s["durability"] is None
    assert "Durability" not in render_markdown(
        parse_summary(s)
    ) and "Durability" not in render_html(parse_summary(s))
