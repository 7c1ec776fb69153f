"""Reports stay valid whatever the names hold; a run without checks is `unchecked`, never PASS."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hachaos_runfolder import fault_events, kill_run, meta, scenario, steady, write_run
from typer.testing import CliRunner

from harness.analysis.inputs import load_run
from harness.analysis.slo import CheckResult
from harness.analysis.summary import NO_CHECKS, VERDICTS, _verdict, analyse
from harness.analysis.summary_model import parse_summary
from harness.cli.app import app
from harness.cli.output import verdict_exit_code
from harness.cli.run_cmd import exit_code, print_verdict
from harness.faults.catalog import Scenario
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.pipeline import render_run
from harness.report.suite import SuiteEntry, merge_junit, render_suite_markdown
from harness.run.orchestrator import RunOutcome

runner = CliRunner()

C0 = "".join(chr(c) for c in range(0x20))
# Every C0 control, a CDATA end, markup, a lone surrogate, U+FFFF and two non-BMP characters.
HOSTILE = f"bad{C0}]]><img src=x>&amp;|*_x_\ud800\uffff😀𝄞"
# The same as every report must show it: forbidden characters as \xNN / \uNNNN escapes.
SHOWN = (
    "bad"
    + "".join(f"\\x{c:02x}" for c in range(0x09))
    + "\t\n"
    + "".join(f"\\x{c:02x}" for c in range(0x0B, 0x20))
    + "]]><img src=x>&amp;|*_x_\\ud800\\uffff😀𝄞"
)
RAW_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def _hostile_summary(tmp_path: Path, verdict_kind: str) -> dict[str, Any]:
    checks = {"availability": {"overall": 0.99}} if verdict_kind == "fail" else {}
    run = kill_run(tmp_path / verdict_kind, checks)
    s = analyse(load_run(run)).to_json_dict()
    s["run"]["scenario"] = HOSTILE
    s["verdict_reasons"] = [HOSTILE]
    s["warnings"].append(HOSTILE)
    for fault in s["faults"]:
        fault["key"] = fault["name"] = HOSTILE
        fault["targets"] = [HOSTILE]
    for check in s["checks"]:
        check["name"] = check["detail"] = HOSTILE
    if verdict_kind == "error":
        s["verdict"] = "error"
        s["errors"] = [HOSTILE]
    return s


@pytest.mark.parametrize("verdict_kind", ["fail", "error", "unchecked"])
def test_junit_parses_and_shows_every_hostile_character(tmp_path: Path, verdict_kind: str) -> None:
    s = _hostile_summary(tmp_path, verdict_kind)
    assert s["verdict"] == verdict_kind
    root = ET.fromstring(render_junit(parse_summary(s)).encode("utf-8"))
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "hachaos." + SHOWN
    if verdict_kind == "fail":
        case = suite.find("testcase")
        assert case is not None and case.get("name") == SHOWN
        failure = case.find("failure")
        assert failure is not None and failure.text is not None
        assert failure.text.endswith("; " + SHOWN)
    if verdict_kind == "error":
        error = suite.find("testcase/error")
        assert error is not None and error.get("message") == SHOWN
        assert error.text == f"{SHOWN}\n" + "\n".join([*s["warnings"][:-1], SHOWN])


def test_merged_junit_survives_an_unreadable_run_junit(tmp_path: Path) -> None:
    s = _hostile_summary(tmp_path, "fail")
    entries = [
        SuiteEntry("a", "a.yaml", "fail", "r/a", render_junit(parse_summary(s))),
        SuiteEntry("b", "b.yaml", "fail", "r/b", '<testsuites><testsuite name="\x1b"/>'),
    ]
    root = ET.fromstring(merge_junit(entries).encode("utf-8"))
    names = [x.get("name") for x in root.iter("testsuite")]
    assert names == ["hachaos." + SHOWN, "hachaos.b"]
    error = root.find("./testsuite[@name='hachaos.b']/testcase/error")
    assert error is not None
    assert error.get("message") == "fail: no readable junit.xml from this run (r/b)"
    # 1 failed check of run a + the error case standing in for run b.
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")


@pytest.mark.parametrize("verdict_kind", ["fail", "error", "unchecked"])
def test_html_and_markdown_escape_hostile_names(tmp_path: Path, verdict_kind: str) -> None:
    s = _hostile_summary(tmp_path, verdict_kind)
    html = render_html(parse_summary(s))
    assert not RAW_FORBIDDEN.search(html)
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "\\x1b" in html and "😀𝄞" in html
    md = render_markdown(parse_summary(s))
    assert not RAW_FORBIDDEN.search(md)
    assert "<img" not in md and "&lt;img src=x>" in md
    # The fault row keeps its 9 columns: the name's `|` is escaped, its newline flattened.
    row = next(line for line in md.splitlines() if line.startswith("| bad"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 9
    assert row.startswith("| bad\\\\x00\\\\x01")  # backslashes of the escapes, escaped once


# ----------------------------------------------------------------------------- unchecked
def test_no_checks_is_unchecked_in_every_format(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run")  # availability 80 %, and the scenario defines no checks
    result = render_run(run)
    assert (result.verdict, result.availability, result.checks) == ("unchecked", 0.8, [])
    doc = json.loads((run / "summary.json").read_text())
    assert (doc["verdict"], doc["verdict_reasons"]) == ("unchecked", [NO_CHECKS])
    md = (run / "summary.md").read_text()
    assert md.startswith("## ➖ hachaos UNCHECKED: synthetic")
    assert "PASS" not in md and "✅" not in md
    html = (run / "report.html").read_text()
    assert 'class="banner unchecked" id="verdict">UNCHECKED · synthetic' in html
    assert ".unchecked{background:#57606a}" in html  # grey, not the green of .pass
    assert "PASS" not in html
    suite = ET.parse(run / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("1", "0", "1")
    skipped = suite.find("testcase[@name='checks']/skipped")
    assert skipped is not None and skipped.get("message") == NO_CHECKS
    prop = suite.find("properties/property[@name='hachaos.verdict']")
    assert prop is not None and prop.get("value") == "unchecked"


def test_report_cli_exits_0_and_says_unchecked(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run")
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0
    assert result.stdout.startswith("UNCHECKED 600 requests, availability 80.000%")
    assert "the scenario defines no checks" in result.stdout


def test_compare_handles_unchecked_runs(tmp_path: Path) -> None:
    base = kill_run(tmp_path / "base", {"availability": {"baseline": 0.999}})
    new = kill_run(tmp_path / "new")
    for run in (base, new):
        runner.invoke(app, ["report", str(run)])
    result = runner.invoke(app, ["compare", str(base), str(new)])
    assert result.exit_code == 0, result.stdout
    assert "run verdicts: base PASS → new UNCHECKED" in result.stdout
    doc = json.loads((new / "compare.json").read_text())
    assert (doc["base_verdict"], doc["new_verdict"], doc["regressed"]) == (
        "pass",
        "unchecked",
        False,
    )
    assert "run verdicts: base PASS → new UNCHECKED" in (new / "compare.md").read_text()


def test_suite_lists_unchecked_between_not_run_and_pass() -> None:
    md = render_suite_markdown(
        [
            SuiteEntry("ok", "ok.yaml", "pass", "r/ok", None),
            SuiteEntry("blind", "blind.yaml", "unchecked", "r/blind", None),
            SuiteEntry("slow", "slow.yaml", "fail", "r/slow", None),
        ]
    )
    rows = [line for line in md.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert [r.split("|")[1].strip() for r in rows] == ["fail", "unchecked", "pass"]
    assert verdict_exit_code("unchecked") == 0
    odd = render_suite_markdown([SuiteEntry("a", "x|\x1b`.yaml", "pass", "r", None)])
    assert "| pass | pass | a | `x\\|\\x1b'.yaml` | — | — | — | — | — | — | `r` |" in odd


# ----------------------------------------------------------------------------- precedence
def _check(passed: bool) -> CheckResult:
    return CheckResult("availability overall >= 99%", "overall", 0.5, 0.99, "ratio", passed)


SC = Scenario.model_validate(scenario())


@pytest.mark.parametrize(
    ("errors", "outcome", "checks", "verdict"),
    [
        (["revert failed"], "interrupted", [_check(False)], "error"),
        ([], "error", [], "error"),
        ([], "interrupted", [_check(False)], "interrupted"),
        ([], "interrupted", [], "interrupted"),
        ([], "completed", [_check(True), _check(False)], "fail"),
        ([], "completed", [], "unchecked"),
        ([], "completed", [_check(True)], "pass"),
    ],
)
def test_verdict_precedence(
    errors: list[str], outcome: str, checks: list[CheckResult], verdict: str
) -> None:
    assert _verdict({"outcome": outcome}, errors, checks, SC)[0] == verdict


def test_verdicts_are_listed_most_severe_first() -> None:
    assert VERDICTS == ("error", "interrupted", "aborted", "fail", "unchecked", "pass")
    codes = [verdict_exit_code(v) for v in VERDICTS]
    assert codes == [3, 130, 1, 1, 0, 0]


def test_error_without_checks_is_still_an_error(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run", steady(0, 60, 10), fault_events("kill-1", 20.0, 20.5, ok=False)
    )
    assert analyse(load_run(run)).to_json_dict()["verdict"] == "error"
    t0 = meta()["t0_wall"]
    stopped = write_run(
        tmp_path / "int",
        steady(0, 5, 10),
        [],
        run_meta=meta(outcome="interrupted", signal="SIGTERM", ended_wall=t0 + 5),
    )
    assert analyse(load_run(stopped)).to_json_dict()["verdict"] == "interrupted"


def test_rendering_never_mutates_the_summary(tmp_path: Path) -> None:
    # The models are frozen, but their dicts and lists are not: no renderer may touch them.
    a = parse_summary(_hostile_summary(tmp_path, "unchecked"))
    b = a.model_copy(deep=True)
    for render in (render_junit, render_html, render_markdown):
        render(a)
    assert a == b


def test_run_cli_verdict_line_says_unchecked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = kill_run(tmp_path / "run")
    outcome = RunOutcome(run, "p", "unchecked", render_run(run), errors=[f"[/]{HOSTILE}"])
    print_verdict(outcome)
    out = capsys.readouterr().out
    assert "verdict: UNCHECKED (the scenario defines no checks, so nothing was judged" in out
    assert "PASS" not in out and "\x1b" not in out.replace("\x1b[", "")
    assert "error: [/]bad\\x00" in out  # Rich markup and control characters shown as text
    assert exit_code(outcome) == 0


def test_run_cli_verdict_line_gives_the_reason_of_an_error_without_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose scenario.json did not read back has no check results: the line must say
    why, not that the scenario defines no checks."""
    run = kill_run(tmp_path / "run")
    (run / "scenario.json").write_text('{"version": 1}')
    outcome = RunOutcome(run, "p", "error", render_run(run))
    print_verdict(outcome)
    out = capsys.readouterr().out
    assert "verdict: ERROR (" in out
    assert "the scenario could not be read, so no check could run" in out
    assert "defines no checks" not in out
