"""`hachaos trend` renders in headless Chromium with twelve runs per scenario: clean
console, nothing fetched, bands and the out-of-band run drawn, every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.analysis.runrecord import HostNoise, RunRecord
from harness.cli.app import app
from harness.history.store import HistoryStore
from harness.history.url import sqlite_url
from harness.report.trend_page import BAND_COLOUR, OUTSIDE_COLOUR, VALUE_COLOUR
from tests.browser.test_report_browser import analyse_png, chromium, console_problems

pytestmark = pytest.mark.browser

BUSY = HostNoise(15.0, 2, 0.0, 1.6, True, "host busy: load 15.0 on 2 cores during the faults")
P99 = [40, 44, 38, 41, 43, 39, 42, 40, 45, 41, 39, 95]  # the last one far out of the band
P50 = [3.1, 3.3, 3.0, 3.2, 3.1, 3.4, 3.2, 3.0, 3.3, 3.1, 3.2, 3.2]


def history(tmp: Path, runs_per_scenario: int = 12) -> Path:
    """Two scenarios of twelve nightly runs each, with a report.html per run folder."""
    db = tmp / "reports" / "history.sqlite"
    with HistoryStore(sqlite_url(db)) as store:
        for scenario in ("kill-replica", "partition-redis"):
            for n in range(runs_per_scenario):
                run_dir = tmp / "reports" / scenario / f"2026112{n % 10}T0{n // 10}0000Z"
                run_dir.mkdir(parents=True)
                (run_dir / "report.html").write_text("<!DOCTYPE html><title>run</title>")
                verdict = "fail" if scenario == "partition-redis" and n in (6, 7) else "pass"
                store.add_run(
                    RunRecord(
                        run_id=f"{scenario}-{n}",
                        scenario=scenario,
                        verdict=verdict,
                        started_at=1_795_000_000.0 + n * 86_400,
                        run_dir=str(run_dir),
                        host_cores=2,
                        git_commit=f"{n:040x}",
                        host=BUSY if n in (3, 9) else None,
                        figures={
                            "availability": 0.999 - (0.02 if verdict == "fail" else 0.0),
                            "p50_ms": P50[n],
                            "p99_ms": float(P99[n]) if scenario == "kill-replica" else 60.0 + n,
                            "worst_ttr_s": 2.0 + 0.1 * (n % 3),
                        },
                    )
                )
    return db


def test_trend_page_renders_every_scenario_with_bands_and_links(tmp_path: Path) -> None:
    db = history(tmp_path)
    page = tmp_path / "reports" / "trend.html"
    done = CliRunner().invoke(app, ["trend", "--history", str(db), "--out", str(page)])
    assert done.exit_code == 0, done.output
    assert "2 scenario(s), 24 runs" in done.output
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert re.findall(r'data-scenario="([^"]+)"', html) == ["kill-replica", "partition-redis"]
    links = set(re.findall(r'href="([^"]+)"', html))
    assert len(links) == 24
    for link in links:
        assert (page.parent / link).is_file(), link  # relative, and it resolves
    # kill-replica's last p99 (95 ms) is outside the band of the runs before it, and so is
    # the availability of partition-redis's two failed runs (97.9 % against 99.9 % ± 0.2)
    assert html.count('class="outside"') == 3
    assert html.count(": outside the band") == 3
    assert re.search(r"p99 95\.0 ms \(band [^)]*\): outside the band", html)
    assert html.count('class="flip"') >= 2 * 4  # pass → fail → pass, on every chart
    assert "2 verdict flip(s)" in html and "2 on a busy host" in html

    shot = tmp_path / "trend.png"
    run = chromium(
        tmp_path,
        page.as_uri(),
        f"--screenshot={shot}",
        "--window-size=1360,1500",
        "--hide-scrollbars",
    )
    assert shot.exists(), run.stderr[-2000:]
    assert console_problems(run.stderr) == []
    assert "net::" not in run.stderr  # nothing fetched
    stats = analyse_png(tmp_path, shot, [BAND_COLOUR, VALUE_COLOUR, OUTSIDE_COLOUR])
    hits = stats["hits"]
    assert isinstance(hits, dict)
    assert hits.get(BAND_COLOUR, 0) > 5000  # the bands are drawn, not just declared
    assert hits.get(VALUE_COLOUR, 0) > 500
    assert hits.get(OUTSIDE_COLOUR, 0) > 20  # the regression's red dot (and the fail marks)
