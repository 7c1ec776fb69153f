"""A suite folder (reports/_suite/<ts>/): a snapshot of each run's reports, read back by
`hachaos compare`. The folder is self-contained: attach it to a release as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from harness.analysis.expectation import EXPECTABLE
from harness.analysis.gate import GateResult
from harness.analysis.repeat import RepeatResult
from harness.analysis.suite_compare import SuiteRun
from harness.analysis.summary_model import Summary, SummaryError
from harness.analysis.summary_model import read_summary as read_summary_model
from harness.errors import ScenarioError
from harness.report.gate import add_to_junit, render_gate_json, render_gate_markdown
from harness.report.junit import append_testsuites
from harness.report.repeat import render_repeat_json, render_repeat_markdown, repeat_junit_suite
from harness.report.suite import (
    SuiteEntry,
    merge_junit,
    render_suite_json,
    render_suite_markdown,
)
from harness.report.suite_facts import run_facts
from harness.report.suite_page import SuiteInfo, render_suite_html
from harness.report.writer import write_reports

SUITE_FILE = "suite.json"
RUNS = "runs"
# What a suite keeps of each run: the rendered reports, not the raw samples (those stay
# in the run folder, which `hachaos report` can re-render from).
SNAPSHOT = ("report.html", "summary.json", "summary.md", "junit.xml")
# ... and of a capacity experiment (docs/capacity.md), whose page is capacity.html.
CAPACITY_SNAPSHOT = ("capacity.html", "capacity.json", "capacity.md", "junit.xml")


def read_summary(run_dir: Path) -> Summary | None:
    """A run's summary.json, or None when it wrote none (or it is unreadable or foreign)."""
    path = run_dir / "summary.json"
    if not path.is_file():
        return None
    try:
        return read_summary_model(path)
    except SummaryError:
        return None


def snapshot_name(scenario: str, taken: set[str]) -> str:
    """A folder name for a scenario's copy: filesystem-safe and unique within the suite."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario).strip(".-") or "scenario"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def snapshot_run(run_dir: Path, suite_dir: Path, name: str, files: Sequence[str] = SNAPSHOT) -> str:
    """Copy a run's reports into ``suite_dir/runs/<name>/``; the link to its page (the first
    of ``files``) relative to the suite folder ("" when the run wrote no page)."""
    docs = {}
    for file in files:
        try:
            docs[file] = (run_dir / file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    if not docs:
        return ""
    target = suite_dir / RUNS / name
    target.mkdir(parents=True, exist_ok=True)
    write_reports(target, docs)
    return f"{RUNS}/{name}/{files[0]}" if files[0] in docs else ""


def is_suite_folder(path: Path) -> bool:
    """True for a folder `hachaos suite` wrote (it holds suite.json)."""
    return (path / SUITE_FILE).is_file()


def load_suite(path: Path) -> dict[str, SuiteRun]:
    """{scenario: its verdict, summary (or None) and `expect:`} of a suite folder, in order.

    A suite written before ``expected`` was recorded takes it from the run's summary,
    else ``pass``.
    """
    try:
        doc = json.loads((path / SUITE_FILE).read_text(encoding="utf-8"))
        rows = doc["scenarios"]
        if doc.get("schema") != "hachaos.suite" or not isinstance(rows, list):
            raise ValueError("not a hachaos suite")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(
            f"cannot read {path / SUITE_FILE}: {exc}",
            hint="pass folders written by `hachaos suite` (reports/_suite/<timestamp>)",
        ) from exc
    out: dict[str, SuiteRun] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("scenario"), str):
            continue
        copy = row.get("copy")
        summary = read_summary(path / copy) if isinstance(copy, str) and copy else None
        expected = row.get("expected")
        if expected not in EXPECTABLE:
            expected = summary.expect.verdict if summary and summary.expect else "pass"
        out[row["scenario"]] = SuiteRun(str(row.get("verdict") or ""), summary, str(expected))
    return out


def suite_run_dirs(path: Path) -> list[Path]:
    """The run folders a suite folder lists (those that still exist), in suite order."""
    doc = json.loads((path / SUITE_FILE).read_text(encoding="utf-8"))
    found = []
    for row in doc.get("scenarios") or []:
        run_dir = row.get("run_dir") if isinstance(row, dict) else None
        if isinstance(run_dir, str) and run_dir and (Path(run_dir) / "run.json").is_file():
            found.append(Path(run_dir))
    return found


def suite_entry(
    scenario: str,
    file: str,
    verdict: str,
    run_dir: Path,
    suite_dir: Path,
    taken: set[str],
    expected: str = "pass",
    files: Sequence[str] = SNAPSHOT,
) -> SuiteEntry:
    """A finished run as a suite row: its JUnit, its figures and a copy of its reports
    (``files``; a capacity experiment's are ``CAPACITY_SNAPSHOT``, and it has no figures)."""
    junit = run_dir / "junit.xml"
    summary = read_summary(run_dir)
    return SuiteEntry(
        scenario,
        file,
        verdict,
        str(run_dir),
        junit.read_text(encoding="utf-8") if junit.is_file() else None,
        facts=run_facts(summary) if summary is not None else None,
        link=snapshot_run(run_dir, suite_dir, snapshot_name(scenario, taken), files),
        expected=expected,
    )


def write_suite(
    suite_dir: Path,
    entries: list[SuiteEntry],
    info: SuiteInfo,
    gate: Sequence[GateResult] | None = None,
    repeat: Sequence[RepeatResult] | None = None,
) -> None:
    """index.html, summary.md, junit.xml and suite.json of a suite; with a gate, also
    gate.md and gate.json, its section in summary.md and its testsuite in junit.xml; with
    repeated runs, repeat.md and repeat.json the same way."""
    meta = {"started": info.started, "wall_s": info.wall_s, "tags": list(info.tags)}
    docs = {
        "junit.xml": merge_junit(entries),
        "summary.md": render_suite_markdown(entries),
        "suite.json": render_suite_json(entries, meta),
        "index.html": render_suite_html(entries, info),
    }
    if gate is not None:
        docs["gate.md"] = render_gate_markdown(gate)
        docs["gate.json"] = render_gate_json(gate)
        docs["summary.md"] += "\n" + docs["gate.md"]
        docs["junit.xml"] = add_to_junit(docs["junit.xml"], gate)
    if repeat is not None:
        docs["repeat.md"] = render_repeat_markdown(repeat)
        docs["repeat.json"] = render_repeat_json(repeat)
        docs["summary.md"] += "\n" + docs["repeat.md"]
        docs["junit.xml"] = append_testsuites(docs["junit.xml"], [repeat_junit_suite(repeat)])
    write_reports(suite_dir, docs)
