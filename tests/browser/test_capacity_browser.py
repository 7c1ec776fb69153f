"""Open a rendered capacity.html in headless Chromium: no console errors, curves really drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.capacity_pipeline import write_capacity
from harness.report.charts import PALETTE
from tests.browser.test_report_browser import analyse_png, chromium, console_problems
from tests.unit.capacity_samples import document

pytestmark = pytest.mark.browser


def test_capacity_page_loads_cleanly_and_its_curves_render(tmp_path: Path) -> None:
    page = write_capacity(tmp_path, document(), ["html"])
    shot = tmp_path / "shot.png"
    done = chromium(
        tmp_path,
        page.as_uri(),
        f"--screenshot={shot}",
        "--window-size=1000,6000",
        "--hide-scrollbars",
    )
    assert shot.exists(), done.stderr[-2000:]
    assert console_problems(done.stderr) == []
    stats = analyse_png(tmp_path, shot, [PALETTE[0], PALETTE[1]])
    assert (stats["w"], stats["h"]) == (1000, 6000)
    assert isinstance(stats["colours"], int) and stats["colours"] > 200  # not blank
    hits = stats["hits"]
    assert isinstance(hits, dict)
    # the healthy curves (blue) and the degraded ones (red) were really drawn
    assert hits.get(PALETTE[0], 0) > 300
    assert hits.get(PALETTE[1], 0) > 100
