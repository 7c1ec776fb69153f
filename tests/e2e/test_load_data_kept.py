"""Load data is kept: a dead Locust worker stops the run with exit 3 (samples merged,
report written), and `hachaos report` on a run killed with kill -9 merges its chunks."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from tests.e2e.conftest import HACHAOS, ROOT, load_json, only_run_dir, project_containers

pytestmark = pytest.mark.e2e
SCENARIO = "tests/e2e/scenarios/dead-worker.yaml"


def _workers(pid: int) -> list[psutil.Process]:
    """The Locust worker processes among the children of hachaos ``pid``."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "--worker" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _start(out: Path, project: str, tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*HACHAOS, "run", SCENARIO, "--quiet", "--out", str(out), "--project", project],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")},
    )


def _wait_for_samples(out: Path, proc: subprocess.Popen[str], timeout: float = 120) -> Path:
    """The run folder, 3 s into the measurement, once both workers have flushed a chunk."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        for chunks in out.glob("*/*/samples"):
            t0 = load_json(chunks.parent / "run.json").get("t0_wall")
            measuring = t0 is not None and time.time() > t0 + 3
            if measuring and {p.name[:2] for p in chunks.glob("w*.parquet")} == {"w0", "w1"}:
                return chunks.parent
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"the load did not start within {timeout} s")


def test_a_killed_worker_stops_the_run_with_exit_3_and_keeps_the_samples(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-worker-{secrets.token_hex(3)}"
    down_after.append(project)
    out = tmp_path / "reports"
    proc = _start(out, project, tmp_path)
    try:
        run_dir = _wait_for_samples(out, proc)
        workers = _workers(proc.pid)
        assert len(workers) == 2, workers
        victim = workers[1]
        victim.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # noticed within seconds, not at the planned end (25 s of measurement were left)
    assert time.monotonic() - killed_at < 20
    assert proc.returncode == 3, output
    assert only_run_dir(out) == run_dir
    samples = pq.read_table(run_dir / "samples.parquet")
    assert samples.num_rows > 0
    assert set(samples["worker"].to_pylist()) == {"w0", "w1"}  # the dead worker's rows too
    summary = load_json(run_dir / "summary.json")
    assert summary["verdict"] == "error"
    reasons = " ".join(summary["verdict_reasons"])
    assert f"(pid {victim.pid}) was killed by SIGKILL" in reasons, reasons
    assert "the load generator stopped before the run ended: worker-" in reasons
    assert summary["headline"]["requests"] > 0
    assert (run_dir / "report.html").is_file()
    assert not list((run_dir / "samples").glob("w*.parquet"))  # merged, not left behind
    assert project_containers(project) == []  # torn down as usual


def test_report_of_a_run_killed_with_kill_9_counts_its_requests(
    tmp_path: Path, down_after: list[str]
) -> None:
    project = f"hachaos-e2e-k9-{secrets.token_hex(3)}"
    down_after.append(project)
    out = tmp_path / "reports"
    proc = _start(out, project, tmp_path)
    try:
        run_dir = _wait_for_samples(out, proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        # the Locust children notice their parent is gone and quit by themselves
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (run_dir / "samples.parquet").exists()
    chunks = list((run_dir / "samples").glob("w*.parquet"))
    rows = sum(pq.read_metadata(c).num_rows for c in chunks)
    assert rows > 0

    report = subprocess.run(
        [*HACHAOS, "report", str(run_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "merged the sample chunks" in report.stdout, report.stdout + report.stderr
    assert report.returncode == 3  # a run that never finished is never a pass
    assert pq.read_metadata(run_dir / "samples.parquet").num_rows == rows
    summary = load_json(run_dir / "summary.json")
    assert summary["headline"]["requests"] > 0
    assert not any("no request was recorded" in w for w in summary["warnings"])
