"""`hachaos suite`: validation before anything runs, tag selection, merged JUnit."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from harness.cli.app import app
from harness.report.suite import SuiteEntry, merge_junit, render_suite_markdown

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
