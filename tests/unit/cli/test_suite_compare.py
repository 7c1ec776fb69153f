"""`hachaos compare` of two suite folders: one row per scenario, regressions found per scenario."""

from __future__ import annotations

import copy
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))
from hachaos_runfolder import fault_events, kill_run, scenario, steady, write_run

from harness.analysis.compare import Tolerances
from harness.analysis.inputs import load_run
from harness.analysis.suite_compare import SuiteRun, compare_suites
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, parse_summary
from harness.cli.app import app
from harness.cli.suite_folder import load_suite, suite_entry, write_suite
from harness.errors import ScenarioError
from harness.report.pipeline import render_run
from harness.report.suite_comparison import suite_compare_table
from harness.report.suite_page import SuiteInfo

CHECKS = {"availability": {"overall": 0.5}}


@pytest.fixture(scope="module")
def base_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A complete summary.json (a synthetic run's) whose headline and faults tests replace."""
    return analyse(load_run(kill_run(tmp_path_factory.mktemp("run"), CHECKS))).to_json_dict()


@pytest.fixture
def make(base_doc: dict[str, Any]) -> Callable[[float, float, float | None], Summary]:
    def summary(availability: float, p99: float, ttr: float | None) -> Summary:
        doc = copy.deepcopy(base_doc)
        doc["headline"].update(availability=availability, p99_ms=p99)
        fault = {**doc["faults"][0], "key": "k#0", "ttr_s": ttr, "recovered": True}
        doc["faults"] = [] if ttr is None else [fault]
        return parse_summary(doc)

    return summary


def test_compare_suites_flags_verdict_and_metric_regressions_per_scenario(
    make: Callable[[float, float, float | None], Summary],
) -> None:
    base = {
        "steady": SuiteRun("pass", make(0.999, 100.0, 1.0)),
        "worse-verdict": SuiteRun("pass", make(0.99, 100.0, None)),
        "slower": SuiteRun("pass", make(0.99, 100.0, 1.0)),
        "gone": SuiteRun("pass", make(0.99, 100.0, None)),
        "broken": SuiteRun("pass", None),
    }
    new = {
        "steady": SuiteRun("pass", make(0.997, 119.0, 2.9)),  # all inside the default tolerances
        "worse-verdict": SuiteRun("fail", make(0.99, 100.0, None)),
        "slower": SuiteRun("pass", make(0.99, 121.0, 3.5)),  # p99 +21 %, TTR +2.5 s
        "broken": SuiteRun("error", None),
        "added": SuiteRun("pass", make(0.99, 100.0, None)),
    }
    cmp = compare_suites(base, new, Tolerances(), names=("b", "n"))
    by = {s.scenario: s for s in cmp.scenarios}
    assert list(by) == ["steady", "worse-verdict", "slower", "broken", "added", "gone"]
    assert not by["steady"].regressed
    assert by["worse-verdict"].regressed_metrics() == ["verdict"]
    assert by["slower"].regressed_metrics() == ["p99 overall", "time to recover k#0"]
    assert by["broken"].regressed_metrics() == ["verdict"]
    assert by["broken"].note == "no summary in the base suite"
    assert (by["added"].regressed, by["added"].note) == (False, "only in the new suite")
    assert (by["gone"].regressed, by["gone"].note) == (False, "only in the base suite")
    assert cmp.regressed
    doc = cmp.to_dict()
    assert doc["schema"] == "hachaos.suite-compare"
    assert [s["scenario"] for s in doc["scenarios"] if s["regressed"]] == [
        "worse-verdict",
        "slower",
        "broken",
    ]


def test_compare_suites_document_and_tolerances(
    make: Callable[[float, float, float | None], Summary],
) -> None:
    # p99 100 -> 121 ms is +21 %: a regression under the default 20 %, not under 25 %.
    base = {
        "slower": SuiteRun("pass", make(0.99, 100.0, None)),
        "lost": SuiteRun("pass", make(0.99, 1.0, None)),
    }
    new = {"slower": SuiteRun("pass", make(0.99, 121.0, None)), "lost": SuiteRun("error", None)}
    loose = Tolerances(max_p99_increase=0.25)
    cmp = compare_suites(base, new, loose, names=("base-suite", "new-suite"))
    assert (cmp.base, cmp.new, cmp.tolerances) == ("base-suite", "new-suite", loose)
    assert compare_suites(base, new, names=("b", "n")).tolerances == Tolerances()
    assert compare_suites(base, new, None, names=("b", "n")).scenarios[0].regressed
    slower, lost = cmp.scenarios
    assert slower.result is not None and slower.result.tolerances == loose
    assert (slower.regressed, slower.note) == (False, "")
    assert (lost.note, lost.result, lost.regressed_metrics()) == (
        "no summary in the new suite", None, ["verdict"]
    )  # fmt: skip
    doc = cmp.to_dict()
    assert {k: v for k, v in doc.items() if k != "scenarios"} == {
        "schema": "hachaos.suite-compare",
        "schema_version": 1,
        "base": "base-suite",
        "new": "new-suite",
        "tolerances": {
            "max_availability_drop": 0.005, "max_p99_increase": 0.25, "max_ttr_increase": 2.0
        },
        "regressed": True,
        "expected_failures_flipped": [],
    }  # fmt: skip
    assert doc["scenarios"][1] == {
        "scenario": "lost",
        "base_verdict": "pass",
        "new_verdict": "error",
        "base_expected": "pass",
        "new_expected": "pass",
        "expected_failure_flipped": False,
        "regressed": True,
        "regressed_metrics": ["verdict"],
        "note": "no summary in the new suite",
        "rows": [],
    }
    p99 = [r for r in doc["scenarios"][0]["rows"] if r["metric"] == "p99 overall"]
    assert [(r["base"], r["new"], r["regressed"]) for r in p99] == [(100.0, 121.0, False)]
    assert doc["scenarios"][0]["regressed_metrics"] == []


def _long_outage(run_dir: Path) -> Path:
    """kill_run (fault reverted at 30 s), but the failures last until 44 s, not 32 s."""
    frame = pd.concat(
        [steady(-5, 20, 10), steady(20, 44, 10, "refused", 50.0), steady(44, 60, 10)],
        ignore_index=True,
    )
    events = fault_events("kill-1", 20.0, 20.5, 30.0)
    return write_run(run_dir, frame, events, scenario_doc=scenario(CHECKS))


def _suite(tmp: Path, name: str, run_dir: Path) -> Path:
    summary = render_run(run_dir)
    suite_dir = tmp / name
    suite_dir.mkdir()
    entry = suite_entry("kill", "kill.yaml", summary.verdict, run_dir, suite_dir, set())
    write_suite(suite_dir, [entry], SuiteInfo())
    return suite_dir


@pytest.fixture
def suites(tmp_path: Path) -> tuple[Path, Path]:
    base = _suite(tmp_path, "base", kill_run(tmp_path / "run-a", CHECKS))
    new = _suite(tmp_path, "new", _long_outage(tmp_path / "run-b"))
    return base, new


def test_suite_folder_is_self_contained(suites: tuple[Path, Path]) -> None:
    base, _ = suites
    assert sorted(p.name for p in (base / "runs" / "kill").iterdir()) == [
        "junit.xml",
        "report.html",
        "summary.json",
        "summary.md",
    ]
    assert 'href="runs/kill/report.html"' in (base / "index.html").read_text()
    # the copies are read, not the run folder: it may be gone (e.g. another CI job's)
    shutil.rmtree(base.parent / "run-a")
    verdict, summary, expected = load_suite(base)["kill"]
    assert (verdict, expected) == ("pass", "pass") and summary is not None
    # kill_run: 120 of the 600 measured requests fail
    assert summary.headline.availability == pytest.approx(0.8)


def test_cli_compare_of_two_suites(suites: tuple[Path, Path]) -> None:
    base, new = suites
    result = CliRunner().invoke(app, ["compare", str(base), str(new)])
    assert result.exit_code == 1, result.output
    md = (new / "compare.md").read_text()
    # 24 s of failures instead of 12: availability 0.8 -> 0.6, recovered 12 s later
    row = next(line for line in md.splitlines() if line.startswith("| kill |"))
    assert "80.000% → 60.000%" in row
    assert "REGRESSED: availability overall, time to recover kill-1#0" in row
    assert "2.000 s → 14.000 s" in row
    doc = json.loads((new / "compare.json").read_text())
    assert doc["regressed"] is True and doc["scenarios"][0]["scenario"] == "kill"

    same = CliRunner().invoke(app, ["compare", str(base), str(base)])
    assert same.exit_code == 0, same.output
    assert "no regression" in same.output


def test_unreadable_suite_json_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "suite.json").write_text('{"schema": "something else", "scenarios": []}')
    with pytest.raises(ScenarioError, match="not a hachaos suite"):
        load_suite(tmp_path)


def test_each_scenario_is_judged_by_its_expectation(
    make: Callable[[float, float, float | None], Summary],
) -> None:
    weak, weaker = make(0.6, 100.0, None), make(0.4, 300.0, None)  # -20 points, p99 x3
    fine = make(0.999, 100.0, None)
    base = {
        "still-fails": SuiteRun("fail", weak, "fail"),
        "now-passes": SuiteRun("fail", weak, "fail"),
        "fails-again": SuiteRun("pass", fine, "fail"),  # the base run was the unexpected one
        "errors": SuiteRun("fail", weak, "fail"),
        "aborts": SuiteRun("fail", weak, "fail"),
        "ordinary": SuiteRun("pass", fine),
        "expect-changed": SuiteRun("pass", fine),
    }
    new = {
        "still-fails": SuiteRun("fail", weaker, "fail"),
        "now-passes": SuiteRun("pass", fine, "fail"),
        "fails-again": SuiteRun("fail", weak, "fail"),
        "errors": SuiteRun("error", None, "fail"),
        "aborts": SuiteRun("aborted", weak, "fail"),
        "ordinary": SuiteRun("fail", weak),
        "expect-changed": SuiteRun("fail", weak, "fail"),
    }
    cmp = compare_suites(base, new, names=("b", "n"))
    by = {s.scenario: s for s in cmp.scenarios}
    got = {name: (s.regressed, s.regressed_metrics(), s.expectation) for name, s in by.items()}
    assert got == {
        # its figures got worse beyond every tolerance: shown, not judged
        "still-fails": (False, [], "still fail as expected"),
        "now-passes": (False, [], "expected fail, now passes: UNEXPECTED"),
        "fails-again": (False, [], "still fail as expected"),
        "errors": (True, ["verdict"], "expected fail, got error"),
        "aborts": (False, [], "expected fail, got aborted"),
        "ordinary": (True, ["verdict", "availability overall"], ""),
        "expect-changed": (False, [], "still fail as expected"),
    }
    assert by["expect-changed"].note == "expect changed: pass → fail"
    still = by["still-fails"].result
    assert still is not None and [r.metric for r in still.rows if r.regressed] == [
        "availability overall",
        "p99 overall",
    ]
    assert cmp.flipped == ["now-passes"]
    assert cmp.to_dict()["expected_failures_flipped"] == ["now-passes"]
    table = {row[0]: row for row in suite_compare_table(cmp)}
    assert table["now-passes"][1] == "fail → pass (expect fail)"
    assert table["now-passes"][-1] == "expected fail, now passes: UNEXPECTED"
    assert table["ordinary"][1] == "pass → fail"


def _suite_of(tmp: Path, name: str, runs: dict[str, tuple[Path, str]]) -> Path:
    """A suite folder with one scenario per ``{name: (run folder, expect)}``."""
    suite_dir = tmp / name
    suite_dir.mkdir()
    taken: set[str] = set()
    entries = []
    for scenario_name, (run_dir, expect) in runs.items():
        verdict = render_run(run_dir).verdict
        entries.append(
            suite_entry(scenario_name, "x.yaml", verdict, run_dir, suite_dir, taken, expect)
        )
    write_suite(suite_dir, entries, SuiteInfo())
    return suite_dir


def test_cli_compare_of_suites_with_expected_failures(tmp_path: Path) -> None:
    # kill_run has availability 0.8: FAILS fails its check, CHECKS (0.5) passes
    fails = {"availability": {"overall": 0.9}}
    failing = kill_run(tmp_path / "failing", fails)
    passing = kill_run(tmp_path / "passing", CHECKS)
    base = _suite_of(tmp_path, "base", {"weak": (failing, "fail"), "odd": (passing, "fail")})
    new = _suite_of(tmp_path, "new", {"weak": (passing, "fail"), "odd": (failing, "fail")})
    result = CliRunner().invoke(app, ["compare", str(base), str(new)])
    # odd: pass (unexpected) -> fail (expected) is no regression; weak: fail -> pass is a flip
    assert result.exit_code == 0, result.output
    assert "no regression" in result.output
    assert "expected to fail, now pass: weak" in result.output
    md = (new / "compare.md").read_text()
    assert "expected failures that now pass: weak" in md
    doc = json.loads((new / "compare.json").read_text())
    assert doc["expected_failures_flipped"] == ["weak"] and doc["regressed"] is False
