"""The suite's release report: facts read from a summary, table cells, page, JSON, Markdown.

Every expected value is computed by hand from the tiny summaries below.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hachaos_runfolder import kill_run

from harness.analysis.inputs import load_run
from harness.analysis.summary import analyse
from harness.analysis.summary_model import Summary, parse_summary
from harness.report.suite import (
    SuiteEntry,
    audit_text,
    isolation_text,
    lost_text,
    render_suite_json,
    render_suite_markdown,
    row_cells,
    ttr_text,
)
from harness.report.suite_facts import RunFacts, run_facts
from harness.report.suite_page import SuiteInfo, render_suite_html, sparkline, suite_verdict


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A complete summary.json (a synthetic run's), which each test overrides by hand."""
    run = kill_run(tmp_path_factory.mktemp("run"), {"availability": {"overall": 0.5}})
    return analyse(load_run(run)).to_json_dict()


def _fault(base: dict[str, Any], key: str, ttr: float | None, **over: Any) -> dict[str, Any]:
    fault = copy.deepcopy(base["faults"][0])
    fault.update(key=key, applied=True, recovered=True, ttr_s=ttr, injected_s=2.0, window_end_s=4.0)
    fault.update(over)
    return fault


def _series(requests: list[int], failed: list[int]) -> dict[str, list[Any]]:
    n = len(requests)
    return {
        "t": list(range(n)),
        "requests": requests,
        "failed": failed,
        "dropped": [0] * n,
        "error_rate": [None] * n,
        "p50_ms": [None] * n,
        "p90_ms": [None] * n,
        "p99_ms": [None] * n,
        "max_ms": [None] * n,
    }


def _isolation(denied: list[str], closed: list[str]) -> dict[str, Any]:
    overhead = {
        "rounds": 1,
        "probes": 1,
        "helpers": 1,
        "round_mean_s": None,
        "round_max_s": None,
        "errors": [],
    }
    return {
        "matrix": {},
        "denied_open": denied,
        "allowed_closed": closed,
        "allowed_closed_in_window": 0,
        "overhead": overhead,
    }


@pytest.fixture
def summary(base: dict[str, Any]) -> Callable[..., Summary]:
    """A summary with hand-set figures; keyword arguments replace top-level keys."""

    def make(**over: Any) -> Summary:
        doc = copy.deepcopy(base)
        doc.update(
            verdict="pass",
            verdict_reasons=[],
            headline={**doc["headline"], "requests": 100, "availability": 0.97, "p99_ms": 123.4},
            latency_kind="corrected",
            faults=[
                _fault(base, "a#0", 1.5),
                _fault(base, "b#0", 3.25),
                _fault(base, "c#0", None, applied=False, recovered=False),
            ],
            checks_passed=3,
            checks_failed=1,
            durability={"acked": 500, "lost": 7, "corrupt": 1, "error": None},
            isolation=_isolation(["x", "y"], ["z"]),
            audit={"counts": {"critical": 0, "high": 2, "medium": 5, "low": 1}},
            end_s=10.0,
            timeseries=_series([10] * 10, [0, 0, 5, 10, 0, 0, 0, 0, 0, 0]),
        )
        doc["run"]["run_id"] = "r1"
        doc.update(over)
        return parse_summary(doc)

    return make


def test_run_facts_reads_every_headline_figure(summary: Callable[..., Summary]) -> None:
    f = run_facts(summary())
    assert (f.verdict, f.run_id, f.requests) == ("pass", "r1", 100)
    assert (f.availability, f.p99_ms, f.latency_kind) == (0.97, 123.4, "corrected")
    # three occurrences, one not applied: worst of 1.5 and 3.25, none unrecovered
    assert (f.faults, f.worst_ttr_s, f.unrecovered) == (3, 3.25, 0)
    assert (f.lost_writes, f.corrupt_writes, f.acked_writes) == (7, 1, 500)
    assert (f.isolation_checked, f.denied_open, f.allowed_closed) == (True, 2, 1)
    assert f.audit == {"critical": 0, "high": 2, "medium": 5, "low": 1}
    assert (f.checks_passed, f.checks_failed) == (3, 1)
    assert f.windows == ((2.0, 4.0), (2.0, 4.0))
    assert f.failed_per_s[3] == 10


def test_run_facts_of_a_run_that_measured_nothing(
    summary: Callable[..., Summary], base: dict[str, Any]
) -> None:
    f = run_facts(
        summary(
            verdict="error",
            verdict_reasons=["deploy failed"],
            headline={**base["headline"], "requests": 0, "availability": None, "p99_ms": None},
            faults=[],
            durability=None,
            isolation=None,
            audit={"error": "engine gone"},
        )
    )
    assert (f.availability, f.p99_ms, f.worst_ttr_s, f.lost_writes) == (None, None, None, None)
    assert (f.reasons, f.audit, f.audit_error) == (("deploy failed",), None, "engine gone")
    assert (ttr_text(f), lost_text(f), isolation_text(f), audit_text(f)) == (
        "no fault",
        "not checked",
        "not checked",
        "could not run",
    )


def test_cell_texts(summary: Callable[..., Summary], base: dict[str, Any]) -> None:
    f = run_facts(summary())
    assert ttr_text(f) == "3.25 s"
    assert lost_text(f) == "7 of 500, 1 corrupt"
    assert isolation_text(f) == "2 denied open, 1 allowed closed"
    assert audit_text(f) == "2 high, 5 medium"
    unrecovered = run_facts(summary(faults=[_fault(base, "a#0", None, recovered=False)]))
    assert ttr_text(unrecovered) == "1 not recovered"
    clean = run_facts(summary(isolation=_isolation([], [])))
    assert isolation_text(clean) == "ok"
    failed_check = run_facts(summary(durability={"error": "timeout", "lost": 0}))
    assert lost_text(failed_check) == "could not check"
    critical = run_facts(summary(audit={"counts": {"critical": 1, "high": 0, "medium": 0}}))
    assert audit_text(critical) == "1 critical, 0 high, 0 medium"
    entry = SuiteEntry("s", "s.yaml", "pass", "r", None, facts=f)
    assert row_cells(entry)[:5] == ["pass", "pass", "s", "97.00%", "123.4 ms"]


def test_sparkline_scales_to_the_run(
    summary: Callable[..., Summary],
) -> None:
    svg = str(sparkline(run_facts(summary())))
    # width 220 px for end_s 10 s: 22 px per second; height 40, plot 38 px for 10 requests/s.
    # t=2: 5 failed -> y = 39 - 5/10*38 = 20.0, height 19.0; t=3: 10 failed -> y 1.0, h 38.0
    assert '<rect class="failed" x="44.0" y="20.0" width="22.0" height="19.0"' in svg
    assert '<rect class="failed" x="66.0" y="1.0" width="22.0" height="38.0"' in svg
    assert svg.count('class="failed"') == 2
    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    coords = points.group(1).split()
    assert len(coords) == 10
    assert coords[0] == "11.0,1.0" and coords[-1] == "209.0,1.0"
    assert "<title>10 s: 100 requests, 15 failed</title>" in svg
    # fault window 2..4 s: x 44, width 44
    assert '<rect x="44.0" y="0" width="44.0" height="40"' in svg
    assert "no timeline" in str(sparkline(RunFacts(verdict="error")))


@pytest.fixture
def entries(summary: Callable[..., Summary]) -> list[SuiteEntry]:
    return [
        SuiteEntry("ok-one", "a.yaml", "pass", "r/a", None, run_facts(summary()), "runs/a/r.html"),
        SuiteEntry(
            "<b>bad</b>",
            "b.yaml",
            "fail",
            "r/b",
            None,
            run_facts(summary(verdict="fail", verdict_reasons=["check failed: x < y"])),
            "runs/b/report.html",
        ),
        SuiteEntry("skipped", "c.yaml", "not run", "", None),
    ]


def test_page_is_one_offline_file_with_a_row_per_scenario_worst_first(
    entries: list[SuiteEntry],
) -> None:
    page = render_suite_html(entries, SuiteInfo(started="2026-01-01", wall_s=90.0))
    rows = re.findall(r'<tr class="row" data-verdict="([^"]+)"', page)
    assert rows == ["fail", "not run", "pass"]
    assert "&lt;b&gt;bad&lt;/b&gt;" in page and "<b>bad</b>" not in page
    assert 'href="runs/b/report.html"' in page and 'href="runs/a/r.html"' in page
    assert "check failed: x &lt; y" in page
    assert "1.5 min" in page
    assert 'id="verdict">FAIL' in page
    # offline: no script, no stylesheet link, no image, nothing fetched from a network
    for banned in ("<script", "<link", "<img", "http://", "https://", "@import", "url("):
        assert banned not in page, banned


def test_suite_verdict(entries: list[SuiteEntry]) -> None:
    assert suite_verdict(entries) == "fail"
    only_ok = [SuiteEntry("a", "a", "pass", "", None), SuiteEntry("b", "b", "unchecked", "", None)]
    assert suite_verdict(only_ok) == "pass"
    assert suite_verdict([]) == "error"


def test_markdown_has_the_headline_figures(entries: list[SuiteEntry]) -> None:
    md = render_suite_markdown(entries)
    assert "3 scenarios: 1 fail, 1 not run, 1 pass; 2 unexpected" in md
    line = next(x for x in md.splitlines() if "| ok-one |" in x)
    assert line == (
        "| pass | pass | ok-one | `a.yaml` | 97.00% | 123.4 ms | 3.25 s | 7 of 500, 1 corrupt "
        "| 2 denied open, 1 allowed closed | 2 high, 5 medium | `runs/a/r.html` |"
    )
    assert "| not run | pass: UNEXPECTED | skipped | `c.yaml` | — | — | — | — | — | — | `-` |" in md


def test_suite_json_is_strict_and_complete(entries: list[SuiteEntry]) -> None:
    doc = json.loads(render_suite_json(entries, {"wall_s": 1.0}))
    assert (doc["schema"], doc["schema_version"], doc["wall_s"]) == ("hachaos.suite", 1, 1.0)
    assert doc["counts"]["fail"] == 1 and doc["counts"]["pass"] == 1
    first = doc["scenarios"][0]
    assert (first["scenario"], first["copy"], first["lost_writes"]) == ("ok-one", "runs/a", 7)
    assert doc["scenarios"][2]["copy"] is None and doc["scenarios"][2]["availability"] is None
