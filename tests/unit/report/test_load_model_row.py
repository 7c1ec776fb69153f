"""The report says how the open model spaced its arrivals (Poisson adds sampling noise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hachaos_runfolder import meta, steady, write_run

from harness.report.pipeline import render_run


@pytest.mark.parametrize(
    ("model", "arrivals", "shown"),
    [
        ("open", "poisson", "open, poisson arrivals"),
        ("open", "uniform", "open, uniform arrivals"),
        ("closed", None, "closed"),
    ],
)
def test_the_load_model_row(tmp_path: Path, model: str, arrivals: str | None, shown: str) -> None:
    run_meta = meta(load_model=model, load_arrivals=arrivals)
    run = write_run(tmp_path / "run", steady(0, 5, 10), [], run_meta=run_meta)
    render_run(run)
    assert f"<code>{shown}</code>" in (run / "report.html").read_text()
    assert json.loads((run / "summary.json").read_text())["run"]["load_arrivals"] == arrivals


def test_a_run_json_from_before_the_key_reads(tmp_path: Path) -> None:
    run_meta = meta(load_model="open")
    del run_meta["load_arrivals"]
    run = write_run(tmp_path / "run", steady(0, 5, 10), [], run_meta=run_meta)
    render_run(run)
    assert "<code>open</code>" in (run / "report.html").read_text()
