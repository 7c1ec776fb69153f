"""A synthetic kill run with container metrics and a scraped series, through analysis and report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
from hachaos_runfolder import T0, kill_run, meta, scenario

from harness.analysis.inputs import load_run
from harness.analysis.summary import analyse
from harness.report.html import render_html

SCHEMA = Path(__file__).parents[3] / "docs" / "summary.schema.json"
SERIES = 'active{proxy="app"}'


def container_rows() -> pd.DataFrame:
    """app.1 is down from t=20 (the kill) to t=31; app.2 runs throughout; 1 s rounds."""
    rows = []
    for t in range(-2, 60):
        for replica in (1, 2):
            up = replica == 2 or not 20 <= t < 31
            rows.append(
                {
                    "wall": T0 + t,
                    "service": "app",
                    "replica": replica,
                    "container": f"c{replica}",
                    "state": "running" if up else "exited",
                    "health": "healthy" if up else "",
                    "restarts": 0,
                    "cpu_pct": (40.0 if 20 <= t < 30 else 10.0) if up else None,
                    "mem_bytes": 2**20 if up else None,
                    "mem_limit": 2**30,
                    "net_rx": 1000 * (t + 2) if up else None,
                    "net_tx": 0 if up else None,
                    "blk_read": 0 if up else None,
                    "blk_write": 0 if up else None,
                    "pids": 3 if up else None,
                }
            )
    return pd.DataFrame(rows)


def scraped() -> pd.DataFrame:
    rows = [
        {
            "wall": T0 + t,
            "endpoint": 0,
            "service": "lb",
            "replica": 1,
            "name": "active",
            "labels": '{"proxy":"app"}',
            "value": 1.0 if 21 <= t < 32 else 2.0,
        }
        for t in range(60)
    ]
    return pd.DataFrame(rows)


def run_folder(tmp_path: Path) -> Path:
    run = kill_run(tmp_path / "run")
    doc = scenario()
    doc["stack"]["metrics"] = [{"service": "lb", "port": 8404, "series": [SERIES]}]
    (run / "scenario.json").write_text(json.dumps(doc))
    status = {
        "index": 0,
        "service": "lb",
        "port": 8404,
        "path": "/metrics",
        "scrapes": 61,
        "failed": 1,
        "samples": 1,
        "targets": 1,
        "last_error": "lb.1 (x): HTTP 500",
    }
    telemetry = {"containers": True, "warnings": [], "stack_metrics": [status]}
    (run / "run.json").write_text(json.dumps(meta(telemetry=telemetry)))
    container_rows().to_parquet(run / "containers.parquet", index=False)
    scraped().to_parquet(run / "stack_metrics.parquet", index=False)
    return run


def test_the_kill_shows_in_the_summary(tmp_path: Path) -> None:
    summary = analyse(load_run(run_folder(tmp_path)))
    c = summary.containers
    assert c is not None and c.interval_s == 1.0
    app1 = next(r for r in c.replicas if r.replica == 1)
    assert app1.down == [(20.0, 31.0)]
    app = c.services["app"]
    # fault window [20, 30): app.2 alone, at 40 % each second
    assert app.faults["kill-1#0"].cpu_pct == {"p50": 40.0, "p95": 40.0, "max": 40.0}
    assert app.faults["kill-1#0"].up_rows == 10 and app.faults["kill-1#0"].rows == 20
    # baseline [0, 20): both replicas at 10 %, total 20 % per round
    assert app.phases["baseline"].cpu_pct_sum == {"p95": 20.0, "max": 20.0}
    m = summary.stack_metrics
    assert m is not None
    (series,) = m.series
    assert series.changes == [(0.0, 2.0), (21.0, 1.0), (32.0, 2.0)]
    assert series.faults["kill-1#0"].min == 1.0
    assert "stack metrics: lb:8404/metrics: 1 of 61 scrapes failed (last: lb.1 (x): HTTP 500)" in (
        summary.warnings
    )
    doc = summary.to_json_dict()
    jsonschema.validate(doc, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_the_report_charts_each_service_and_series_and_lists_the_stop(tmp_path: Path) -> None:
    html = render_html(analyse(load_run(run_folder(tmp_path))))
    assert '<h3 class="chart">app: CPU per replica (% of one core)</h3>' in html
    assert "app: memory per replica (MiB)" in html
    assert "active{proxy=&quot;app&quot;} (scraped)" in html
    assert "20.0 → 31.0" in html  # app.1's metrics stopped and resumed
    assert "starts at 2; 21.0: 1, 32.0: 2" in html
    assert "1 of 61 scrapes failed" in html


def test_a_run_without_the_files_has_no_sections(tmp_path: Path) -> None:
    summary = analyse(load_run(kill_run(tmp_path / "run")))
    assert summary.containers is None and summary.stack_metrics is None
    assert summary.to_json_dict()["containers"] is None
    assert "Inside the stack" not in render_html(summary)
