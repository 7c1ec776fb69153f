"""`hachaos report` on the folder of a killed run merges the sample chunks it left behind."""

from __future__ import annotations

import json
from pathlib import Path

from hachaos_runfolder import T0, T0_US, meta, scenario, write_run
from typer.testing import CliRunner

from harness.cli.app import app
from harness.load.chunks import SampleBuffer, write_chunk

runner = CliRunner()


def _chunk(run_dir: Path, worker: str, seq: int, rows: list[tuple[float, str]]) -> None:
    """Rows of (seconds after t0, outcome), as a worker's recorder writes them."""
    buf = SampleBuffer()
    for t, outcome in rows:
        status = {"ok": 200, "http_5xx": 503}.get(outcome, 0)
        latency = float("nan") if outcome == "dropped" else 12.0
        buf.append(0, T0_US + int(t * 1_000_000), latency, status, outcome, 5, "GET /")
    write_chunk(buf.drain(worker), run_dir / "samples", worker, seq)


def test_report_merges_the_chunks_of_a_killed_run(tmp_path: Path) -> None:
    # kill -9 six seconds into the run: run.json still says "running", no samples.parquet
    run = write_run(
        tmp_path / "killed",
        None,
        [],
        run_meta=meta(outcome="running", ended_wall=None, generator={}),
        scenario_doc=scenario({"availability": {"overall": 0.5}}, faults=[]),
    )
    _chunk(run, "w0", 0, [(1.0, "ok"), (2.0, "ok"), (3.0, "ok")])
    _chunk(run, "w0", 1, [(4.0, "ok"), (5.0, "refused")])
    _chunk(run, "w1", 0, [(-2.0, "ok"), (2.5, "http_5xx"), (3.5, "dropped")])
    (run / "samples" / "w1-000001.parquet").write_bytes(b"PAR1 cut short by the crash")
    (run / "samples" / ".w1-000002.parquet.tmp").write_bytes(b"half written")
    assert not (run / "samples.parquet").exists()

    result = runner.invoke(app, ["report", str(run)])

    # measured: 3 + 2 + 1 (the warmup row and the dropped arrival do not count) = 6,
    # of which 4 ok
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["requests"] == 6
    assert summary["headline"]["availability"] == 4 / 6
    assert "6 requests" in result.output
    assert "no request was recorded" not in (run / "summary.md").read_text()
    assert "w1-000001.parquet" in result.output  # the damaged chunk is named, and kept
    assert (run / "samples" / "w1-000001.parquet").exists()
    assert len(list((run / "samples").glob("w*.parquet"))) == 4  # evidence is kept
    # a run cut short is never a pass, however good its first seconds looked
    assert summary["verdict"] == "error"
    assert "did not finish" in " ".join(summary["verdict_reasons"])
    assert result.exit_code == 3, result.output
    assert summary["run"]["t0_wall"] == T0
