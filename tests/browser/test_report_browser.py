"""Open a rendered report.html in headless Chromium: no console errors, charts really drawn."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hachaos_runfolder import kill_run

from harness.report.charts import PALETTE
from harness.report.pipeline import render_run

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with a fresh profile."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("headless Chromium is missing: run `make browser` (scripts/ensure-browser)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_problems(stderr: str) -> list[str]:
    """Console messages and uncaught errors; the report has no script, so any is a problem."""
    return [
        line
        for line in stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "ERR_FILE_NOT_FOUND" in line
    ]


PROBE = """<!DOCTYPE html><html><body><script>
const img = new Image();
img.onload = () => {
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const colours = new Set(); const hits = {};
  const wanted = WANTED;
  for (let i = 0; i < d.length; i += 4) {
    const hex = "#" + [d[i], d[i+1], d[i+2]].map(v => v.toString(16).padStart(2, "0")).join("");
    colours.add(hex);
    if (wanted.includes(hex)) hits[hex] = (hits[hex] || 0) + 1;
  }
  const out = document.createElement("pre"); out.id = "result";
  out.textContent = JSON.stringify({w: c.width, h: c.height, colours: colours.size, hits});
  document.body.appendChild(out);
};
img.src = "data:image/png;base64,PNG";
</script></body></html>"""


def analyse_png(tmp_path: Path, png: Path, wanted: list[str]) -> dict[str, object]:
    """Count distinct colours (and pixels of ``wanted`` colours) of a PNG, in the browser."""
    probe = tmp_path / "probe.html"
    page = PROBE.replace("WANTED", json.dumps(wanted))
    probe.write_text(page.replace("PNG", base64.b64encode(png.read_bytes()).decode()))
    done = chromium(tmp_path, probe.as_uri(), "--dump-dom", "--virtual-time-budget=5000")
    match = re.search(r'<pre id="result">(.*?)</pre>', done.stdout)
    assert match, f"the probe page did not report: {done.stderr[-2000:]}"
    result: dict[str, object] = json.loads(match.group(1))
    return result


def test_console_detector_catches_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('x'); nope();</script></body></html>")
    done = chromium(tmp_path, bad.as_uri(), "--dump-dom")
    assert len(console_problems(done.stderr)) == 2


def test_report_loads_cleanly_and_charts_render(tmp_path: Path) -> None:
    run = kill_run(tmp_path / "run", {"availability": {"overall": 0.99}, "recovery": {"max": 5}})
    render_run(run, ["html"])
    shot = tmp_path / "shot.png"
    done = chromium(
        tmp_path,
        (run / "report.html").as_uri(),
        f"--screenshot={shot}",
        "--window-size=1000,2200",
        "--hide-scrollbars",
    )
    assert shot.exists(), done.stderr[-2000:]
    assert console_problems(done.stderr) == []
    stats = analyse_png(tmp_path, shot, [PALETTE[0], PALETTE[1]])
    assert (stats["w"], stats["h"]) == (1000, 2200)
    assert isinstance(stats["colours"], int) and stats["colours"] > 200  # not blank
    hits = stats["hits"]
    assert isinstance(hits, dict)
    # The throughput line (blue) and the error-rate line (red) were really drawn.
    assert hits.get(PALETTE[0], 0) > 300
    assert hits.get(PALETTE[1], 0) > 300
