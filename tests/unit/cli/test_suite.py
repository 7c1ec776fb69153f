"""`hachaos suite`: validation before anything runs, tag selection, merged JUnit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.cli.suite_cmd import judged_code
from harness.report.suite import (
    SuiteEntry,
    counts_line,
    merge_junit,
    render_suite_json,
    render_suite_markdown,
    worst_first,
)
from harness.report.suite_page import suite_verdict

ROOT = Path(__file__).resolve().parents[3]

RUN_JUNIT = """<?xml version='1.0' encoding='utf-8'?>
<testsuites name="hachaos"><testsuite name="hachaos.{name}" tests="{t}" failures="{f}" errors="0">
{cases}</testsuite></testsuites>"""


def _junit(name: str, passed: int, failed: int) -> str:
    cases = "".join(f'<testcase classname="x" name="ok{i}"/>' for i in range(passed))
    cases += "".join(
        f'<testcase classname="x" name="bad{i}"><failure message="m"/></testcase>'
        for i in range(failed)
    )
    return RUN_JUNIT.format(name=name, t=passed + failed, f=failed, cases=cases)


def test_merge_junit_keeps_every_suite_and_counts_exactly() -> None:
    entries = [
        SuiteEntry("a", "a.yaml", "pass", "r/a", _junit("a", 3, 0)),
        SuiteEntry("b", "b.yaml", "fail", "r/b", _junit("b", 1, 2)),
        SuiteEntry("c", "c.yaml", "not run", "", None),
    ]
    root = ET.fromstring(merge_junit(entries))
    assert [s.get("name") for s in root.iter("testsuite")] == [
        "hachaos.a",
        "hachaos.b",
        "hachaos.c",
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "1")
    error = root.find("./testsuite[@name='hachaos.c']/testcase/error")
    assert error is not None
    assert error.get("type") == "not run"


def test_markdown_lists_worst_first() -> None:
    md = render_suite_markdown(
        [
            SuiteEntry("ok", "ok.yaml", "pass", "r/ok", None),
            SuiteEntry("boom", "boom.yaml", "error", "r/boom", None),
            SuiteEntry("slow", "slow.yaml", "fail", "r/slow", None),
        ]
    )
    rows = [line for line in md.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert [r.split("|")[1].strip() for r in rows] == ["error", "fail", "pass"]
    assert "3 scenarios: 1 error, 1 fail, 1 pass" in md


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "compose", tmp_path / "compose")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("kill-replica.yaml", "single-replica-kill.yaml"):
        shutil.copy(ROOT / "scenarios" / name, folder / name)
    return folder


def test_one_invalid_file_stops_the_whole_suite_before_any_engine_call(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    bad = scenario_dir / "zz-bad.yaml"
    bad.write_text(
        (scenario_dir / "kill-replica.yaml").read_text().replace("type: kill", "type: kil")
    )
    result = CliRunner().invoke(app, ["suite", str(scenario_dir)])
    assert result.exit_code == 2, result.output
    assert "nothing was run" in result.output
    assert "zz-bad.yaml:" in result.output
    assert "did you mean 'kill'" in result.output


def test_tags_that_match_nothing_are_a_usage_error(scenario_dir: Path) -> None:
    result = CliRunner().invoke(app, ["suite", str(scenario_dir), "--tag", "no-such-tag"])
    assert result.exit_code == 2, result.output
    assert "no scenario matches" in result.output


def test_a_failure_the_scenario_expects_is_skipped_in_junit_and_checked_by_one_case() -> None:
    entries = [
        SuiteEntry("weak", "w.yaml", "fail", "r/w", _junit("weak", 2, 1), expected="fail"),
        SuiteEntry("fixed", "f.yaml", "pass", "r/f", _junit("fixed", 3, 0), expected="fail"),
        SuiteEntry("ok", "o.yaml", "pass", "r/o", _junit("ok", 1, 0)),
    ]
    root = ET.fromstring(merge_junit(entries))
    # weak: 3 checks + its expectation (pass), the failed check skipped as expected;
    # fixed: 3 checks + its expectation, which fails; ok: 1 check, no expectation case.
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped"))
            for s in root.iter("testsuite")] == [
        ("hachaos.weak", "4", "0", "1"),
        ("hachaos.fixed", "4", "1", None),
        ("hachaos.ok", "1", "0", None),
    ]  # fmt: skip
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("9", "1", "1")
    skipped = root.find("./testsuite[@name='hachaos.weak']/testcase[@name='bad0']/skipped")
    assert skipped is not None and skipped.get("message") == "expected to fail (expect: fail): m"
    unexpected = root.find(
        "./testsuite[@name='hachaos.fixed']/testcase[@name='verdict is fail']/failure"
    )
    assert unexpected is not None and unexpected.get("message") == "expected fail, got pass"
    assert (
        root.find("./testsuite[@name='hachaos.weak']/testcase[@name='verdict is fail']/*") is None
    )


@pytest.mark.parametrize(
    ("verdict", "expected", "code", "judged"),
    [
        ("pass", "pass", 0, 0),
        ("unchecked", "pass", 0, 0),
        ("fail", "pass", 1, 1),
        ("fail", "fail", 1, 0),  # a weakness shown on purpose
        ("aborted", "aborted", 1, 0),
        ("pass", "fail", 0, 1),  # the check that should fail did not
        ("aborted", "fail", 1, 1),
        ("error", "fail", 3, 3),  # an error is never expected
        ("interrupted", "fail", 130, 130),
    ],
)
def test_the_suite_exit_code_counts_only_unexpected_verdicts(
    verdict: str, expected: str, code: int, judged: int
) -> None:
    entry = SuiteEntry("s", "s.yaml", verdict, "r", None, expected=expected)
    assert judged_code(code, entry) == judged
    assert entry.as_expected is (judged == 0)


def test_unexpected_rows_come_first_and_decide_the_banner() -> None:
    fail_ok = SuiteEntry("a-weak", "a.yaml", "fail", "r", None, expected="fail")
    passed = SuiteEntry("b-ok", "b.yaml", "pass", "r", None)
    fixed = SuiteEntry("c-fixed", "c.yaml", "pass", "r", None, expected="fail")
    assert [e.scenario for e in worst_first([fail_ok, passed, fixed])] == [
        "c-fixed", "a-weak", "b-ok"
    ]  # fmt: skip
    assert suite_verdict([fail_ok, passed]) == "pass"  # every verdict as expected
    assert suite_verdict([fail_ok, passed, fixed]) == "fail"  # passed where it should fail
    broken = SuiteEntry("d", "d.yaml", "error", "r", None, expected="fail")
    assert suite_verdict([fixed, broken]) == "error"
    assert counts_line([fail_ok, passed, fixed]) == "3 scenarios: 1 fail, 2 pass; 1 unexpected"
    assert counts_line([fail_ok, passed]) == "2 scenarios: 1 fail, 1 pass; all as expected"
    assert (fail_ok.expected_text, fixed.expected_text) == ("fail", "fail: UNEXPECTED")
    doc = json.loads(render_suite_json([fail_ok, fixed], {}))
    assert [(r["expected"], r["as_expected"]) for r in doc["scenarios"]] == [
        ("fail", True), ("fail", False)
    ]  # fmt: skip
    assert doc["unexpected"] == 1


def test_a_capacity_experiment_in_a_suite_gets_its_row_and_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Experiment scenarios run through `hachaos capacity`'s runner; their row links the
    copy of capacity.html, and a failed check counts like a run's (exit code 1)."""
    from harness.analysis.slo import CheckResult
    from harness.cli import suite_cmd
    from harness.faults.catalog import Scenario as FullScenario
    from harness.run.experiment import ExperimentOutcome
    from tests.unit.capacity_samples import document

    folder = tmp_path / "reports" / "cap" / "t"
    folder.mkdir(parents=True)
    failed = CheckResult("capacity default >= 500/s", "healthy", 90.0, 500.0, "rps", False)
    doc = document(verdict="fail", checks=(failed,), verdict_reasons=(failed.name,))
    for name in ("capacity.html", "capacity.md", "junit.xml"):
        (folder / name).write_text(f"<{name}>")
    (folder / "capacity.json").write_text(doc.to_json())
    seen: list[str] = []

    def fake_run(sc: Any, compose: Any, options: Any, quiet: bool) -> ExperimentOutcome:
        seen.append(sc.name)
        return ExperimentOutcome(folder, doc, folder / "capacity.html")

    monkeypatch.setattr(suite_cmd, "run_experiment", fake_run)
    sc = FullScenario.model_validate(
        {
            "version": 1,
            "name": "cap",
            "stack": {"compose": "c.yaml", "target": "http://127.0.0.1:1/"},
            "load": {},
            "experiment": {"capacity": {"max_rps": 10}},
        }
    )
    runs = suite_cmd._SuiteRuns(tmp_path, tmp_path / "suite", None, None, 1)
    runs.one(1, Path("cap.yaml"), sc, None, fail_fast=False, quiet=True)  # type: ignore[arg-type]
    assert seen == ["cap"]
    (entry,) = runs.entries
    assert (entry.verdict, entry.run_dir, entry.link) == (
        "fail",
        str(folder),
        "runs/cap/capacity.html",
    )
    assert entry.junit == "<junit.xml>"
    assert runs.codes == [1]
    assert sorted(p.name for p in (tmp_path / "suite" / "runs" / "cap").iterdir()) == [
        "capacity.html",
        "capacity.json",
        "capacity.md",
        "junit.xml",
    ]
