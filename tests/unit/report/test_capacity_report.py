"""The capacity reports: HTML, Markdown, JSON and JUnit of one hand-made experiment."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from harness.analysis.capacity.checks import capacity_checks, experiment_verdict
from harness.analysis.capacity.document import CapacityDocument
from harness.errors import ScenarioError
from harness.report.capacity_html import render_capacity_html
from harness.report.capacity_junit import render_capacity_junit
from harness.report.capacity_markdown import render_capacity_markdown
from harness.report.capacity_pipeline import render_capacity_documents, rerender_capacity
from harness.report.capacity_rows import (
    capacity_text,
    scaling_table_rows,
    stop_text,
    summary_rows,
)
from tests.unit.capacity_samples import configuration, document, search, step


def _checked() -> CapacityDocument:
    doc = document()
    checks = capacity_checks(doc.configurations, min_capacity=60.0, n_plus_1=True, peak=60.0)
    verdict, reasons = experiment_verdict("completed", [], doc.configurations, checks)
    return doc.model_copy(
        update={"checks": tuple(checks), "verdict": verdict, "verdict_reasons": reasons}
    )


def test_capacity_texts_say_what_the_number_means() -> None:
    converged = search("healthy", 100.0, [step(100, "good")], first_bad=105.0)
    assert capacity_text(converged) == "100/s (first bad 105/s)"
    top = search("healthy", 400.0, [step(400, "good")], stop="max_rps")
    assert capacity_text(top) == "≥ 400/s (max_rps)"
    gen = search(
        "healthy", 200.0, [step(300, "generator", cpu=99)], stop="generator", generator_rate=300.0
    )
    assert capacity_text(gen) == "≥ 200/s (generator-bound at 300/s)"
    none = search("healthy", None, [step(5, "bad")], stop="none_good", first_bad=5.0)
    assert capacity_text(none) == "none (even the lowest rate tried broke the SLOs)"
    budget = search("healthy", 60.0, [step(60, "good")], stop="max_time")
    assert capacity_text(budget) == "≥ 60/s (max_time)"
    stuck = search("healthy", 80.0, [step(120, "bad")], stop="unrecovered", first_bad=120.0)
    assert capacity_text(stuck) == "80/s (first bad 120/s; then metastable)"
    assert stop_text(stuck.model_copy(update={"unrecovered_s": 65.4})) == (
        "after a bad step the stack still did not serve 65 s into no load (metastable:"
        " queued work or retries kept it overloaded); the limit was not narrowed down further"
    )
    assert capacity_text(None) == "—"


def test_summary_and_scaling_rows() -> None:
    doc = document()
    rows = summary_rows(doc)
    assert rows[1] == [
        "plain @ 2 replicas",
        "90/s (first bad 94.5/s)",
        "50/s (first bad 55/s)",
        "56 %",  # 50 / 90
        "fails",  # a step at 55/s <= peak 60/s broke the SLOs
        "94.5/s: p99 900 ms, 90.0x the 10 ms at 45/s",
        "5",
        "60.000 s",
    ]
    assert rows[3][4] == "holds"  # cache @ 2: a step at 110/s >= 60/s met the SLOs
    plain = scaling_table_rows(doc.scaling[0])
    # 50 at 1 replica, 90 at 2: linear 100, efficiency 90 %, the 2nd replica bought 40/50
    assert plain == [
        ["1", "50/s", "50/s", "1.00×", "100 %", "—"],
        ["2", "90/s", "100/s", "1.80×", "90 %", "80 % of a replica"],
    ]


def test_html_is_one_well_formed_offline_page_with_the_curves() -> None:
    doc = _checked()
    page = render_capacity_html(doc)

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)
            if tag not in ("meta", "br", "img", "input", "link"):
                self.open.append(tag)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.open and self.open[-1] == tag, (self.open[-5:], tag)
            self.open.pop()

    tags = Tags()
    tags.feed(page)
    assert tags.open == []
    assert "script" not in tags.seen and "link" not in tags.seen
    # one set of three curves per configuration plus the scaling chart
    assert page.count("<svg") == 4 * 3 + 1
    assert "Achieved vs offered throughput" in page
    assert "Corrected latency vs offered load" in page
    assert "Capacity vs replicas" in page
    assert '<div class="banner fail"' in page
    assert "N+1 plain @ 2 replicas: carries 60/s with the faults held" in page
    assert "<h2>Variants</h2>" in page


def test_markdown_tables_and_the_generator_note() -> None:
    gen = search(
        "healthy",
        200.0,
        [step(200, "good"), step(300, "generator", cpu=99.0, index=2)],
        stop="generator",
        generator_rate=300.0,
    )
    config = configuration("plain", None, 50.0, None, 60.0).model_copy(update={"healthy": gen})
    doc = document(configurations=(config,), scaling=())
    text = render_capacity_markdown(doc)
    assert text.startswith("## ➖ hachaos capacity UNCHECKED: web-ha-capacity\n")
    # 300/s sent at 99 %: 300 x 75 / 99 = 227/s per worker; 400 / 227 = 1.76 -> 2 workers
    assert (
        "> plain (healthy): the load generator, not the stack, was the limit at 300/s; the"
        " stack carried at least 200/s. to offer 400/s, run 2 load workers: 2 load"
        " process(es) here (load.processes); one carried about 227/s." in text
    )
    assert "| plain | ≥ 200/s (generator-bound at 300/s) | — |" in text
    assert "### Variants" not in text  # one variant: nothing to compare
    first = search(
        "healthy", None, [step(500, "generator", cpu=99.0)], stop="generator", generator_rate=500.0
    )
    alone = configuration("plain", None, 50.0, None, 60.0).model_copy(update={"healthy": first})
    assert "at 500/s; no step before it measured the stack. to offer" in (
        render_capacity_markdown(document(configurations=(alone,), scaling=()))
    )
    rows = [line for line in text.splitlines() if line.startswith("| 2 | ramp | 300/s")]
    assert len(rows) == 1 and "| generator |" in rows[0]


def test_junit_has_a_case_per_configuration_and_check() -> None:
    root = ET.fromstring(render_capacity_junit(_checked()).encode())
    suite = root.find("testsuite")
    assert suite is not None
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names[:4] == [
        "capacity plain @ 1 replicas",
        "capacity plain @ 2 replicas",
        "capacity cache @ 1 replicas",
        "capacity cache @ 2 replicas",
    ]
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == [
        "capacity plain @ 1 replicas >= 60/s",  # 50 < 60
        "N+1 plain @ 1 replicas: carries 60/s with the faults held",  # not measured
        "N+1 plain @ 2 replicas: carries 60/s with the faults held",
        "N+1 cache @ 1 replicas: carries 60/s with the faults held",
    ]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("12", "4", "0")
    out = suite.find("testcase/system-out")
    assert out is not None and out.text == (
        "capacity 50/s (first bad 52.5/s); with the faults held —"
    )
    errored = document(
        verdict="error", verdict_reasons=("plain: deploy failed",), configurations=()
    )
    root = ET.fromstring(render_capacity_junit(errored).encode())
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message") == "plain: deploy failed"


def test_the_pipeline_always_writes_capacity_json_and_rerenders(tmp_path: Path) -> None:
    doc = _checked()
    docs = render_capacity_documents(doc, ["md"])
    assert sorted(docs) == ["capacity.json", "capacity.md"]
    with pytest.raises(ScenarioError, match=re.escape("unknown report format(s): pdf")):
        render_capacity_documents(doc, ["pdf"])
    (tmp_path / "capacity.json").write_text(docs["capacity.json"])
    assert rerender_capacity(tmp_path) == doc
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "capacity.html",
        "capacity.json",
        "capacity.md",
        "junit.xml",
    ]


def test_retained_is_marked_where_a_capacity_is_only_a_lower_bound() -> None:
    """90 healthy, 50 degraded: 56 %. A degraded lower bound makes it ≥ 56 %, a healthy
    one ≤ 56 %, both: unknown (a busy host once printed 133 % from two lower bounds)."""
    base = configuration("plain", None, 90.0, 50.0, 60.0)
    assert base.healthy is not None and base.degraded is not None
    low = {"lower_bound_only": True}
    cases = [
        ({}, {}, "56 %"),
        ({}, low, "≥ 56 %"),
        (low, {}, "≤ 56 %"),
        (low, low, "—"),
    ]
    for healthy, degraded, want in cases:
        config = base.model_copy(
            update={
                "healthy": base.healthy.model_copy(update=healthy),
                "degraded": base.degraded.model_copy(update=degraded),
            }
        )
        doc = document(configurations=(config,), scaling=())
        assert summary_rows(doc)[0][3] == want, (healthy, degraded)
