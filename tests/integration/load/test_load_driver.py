"""The load driver end to end against a local HTTP server: real Locust children, real sockets."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pyarrow.parquet as pq
import pytest

from harness.errors import LoadError
from harness.load.driver import LoadDriver, LoadPlan, LoadResult
from harness.records import SAMPLE_COLUMNS
from harness.run.durability import load_acked, load_timed_out
from harness.scenario.models import DurabilityCheck, Load

if TYPE_CHECKING:
    from conftest import LocalServer

pytestmark = pytest.mark.timeout(90)


def _plan(
    url: str, load: Load, tmp: Path, total: float, workers: int = 1, **kw: object
) -> LoadPlan:
    return LoadPlan(
        target_url=url,
        load=load,
        total_seconds=total,
        seed=7,
        out_dir=tmp,
        locustfile=kw.get("locustfile"),  # type: ignore[arg-type]
        workers=workers,
        run_id="itest",
    )


def _run(driver: LoadDriver) -> LoadResult:
    try:
        driver.start()
        while driver.running():
            driver.snapshot()
            time.sleep(0.5)
    finally:
        result = driver.stop()
    return result


def test_open_model_keeps_its_schedule_while_the_target_stalls(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Coordinated omission: a frozen target must not slow the arrivals."""
    local_server.behaviour.mode = "stall"
    local_server.behaviour.stall_s = 3.0
    load = Load(model="open", rps=40, timeout=0.5)
    result = _run(LoadDriver(_plan(local_server.url, load, tmp_path, 3.0, workers=2)))
    table = pq.read_table(result.samples_path)
    assert tuple(table.column_names) == SAMPLE_COLUMNS
    assert result.requests + result.dropped == 120  # exactly rps x seconds
    assert result.dropped == 0
    assert set(table["outcome"].to_pylist()) == {"timeout"}
    assert set(table["worker"].to_pylist()) == {"w0", "w1"}
    intended = sorted(table["intended_us"].to_pylist())
    gaps = {round((b - a) / 1000) for a, b in itertools.pairwise(intended)}
    assert gaps == {25}  # one arrival every 25 ms across both workers
    lat = table["latency_ms"].to_pylist()
    assert all(450 < x < 1500 for x in lat)


def test_outcome_classes_from_a_misbehaving_target(
    local_server: LocalServer, tmp_path: Path
) -> None:
    local_server.behaviour.mode = "mixed"
    local_server.behaviour.stall_s = 1.0
    load = Load(model="open", rps=40, timeout=0.3)
    result = _run(LoadDriver(_plan(local_server.url, load, tmp_path, 2.0)))
    outcomes = set(pq.read_table(result.samples_path)["outcome"].to_pylist())
    assert {"ok", "http_5xx", "reset", "timeout"} <= outcomes


def test_refused_connections(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the load starts
    load = Load(model="closed", users=2, timeout=0.5, think_time=0.05)
    result = _run(LoadDriver(_plan(f"http://127.0.0.1:{port}", load, tmp_path, 2.0)))
    outcomes = pq.read_table(result.samples_path)["outcome"].to_pylist()
    assert outcomes and set(outcomes) == {"refused"}


def test_closed_model_records_a_user_locustfile(local_server: LocalServer, tmp_path: Path) -> None:
    locustfile = tmp_path / "mine.py"
    locustfile.write_text(
        "from locust import HttpUser, constant, task\n"
        "class Mine(HttpUser):\n"
        "    wait_time = constant(0.05)\n"
        "    @task\n"
        "    def hello(self):\n"
        "        self.client.get('/', name='hello')\n"
    )
    load = Load(model="closed", users=2, spawn_rate=10)
    plan = _plan(local_server.url, load, tmp_path / "run", 2.5, locustfile=locustfile)
    result = _run(LoadDriver(plan))
    table = pq.read_table(result.samples_path)
    assert result.requests > 10
    assert set(table["name"].to_pylist()) == {"GET hello"}
    assert set(table["intended_us"].to_pylist()) == {0}
    assert set(table["outcome"].to_pylist()) == {"ok"}


def test_a_broken_locustfile_is_a_load_error(tmp_path: Path) -> None:
    locustfile = tmp_path / "broken.py"
    locustfile.write_text("import no_such_module_here\n")
    load = Load(model="closed", users=1)
    driver = LoadDriver(
        _plan("http://127.0.0.1:9", load, tmp_path / "run", 2.0, locustfile=locustfile)
    )
    with pytest.raises(LoadError, match="no_such_module_here"):
        driver.start()
    driver.stop()


def test_a_hand_started_worker_joins_and_ships_its_samples(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Distributed mode: one local worker plus one started by hand, as on another machine."""
    load = Load(model="open", rps=50)
    driver = LoadDriver(_plan(local_server.url, load, tmp_path, 2.0, workers=2), remote_workers=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HACHAOS_")}
    remote = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.load.worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(driver.master_port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = _run(driver)
    finally:
        remote.terminate()
        remote.wait(timeout=10)
    table = pq.read_table(result.samples_path)
    assert result.requests == 100
    counts = {w: table["worker"].to_pylist().count(w) for w in ("w0", "w1")}
    assert counts == {"w0": 50, "w1": 50}


def test_a_prespawned_load_waits_at_its_gate_then_runs_its_full_schedule_on_the_target(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Spawned before the target exists; nothing starts until start() hands the URL over."""
    load = Load(model="open", rps=20, timeout=0.5)
    driver = LoadDriver(_plan("", load, tmp_path, 2.0, workers=2))
    try:
        driver.prespawn()
        time.sleep(4.0)  # long enough for Locust's imports and the workers to connect
        assert driver.running()
        assert not (tmp_path / "samples" / "started.json").exists()  # held at the gate
        driver.start(local_server.url)
        while driver.running():
            time.sleep(0.5)
    finally:
        result = driver.stop()
    table = pq.read_table(result.samples_path)
    assert result.requests + result.dropped == 40  # the whole schedule: the wait did not eat it
    assert set(table["outcome"].to_pylist()) == {"ok"}  # all sent to the handed-over target
    assert set(table["worker"].to_pylist()) == {"w0", "w1"}


def test_a_prespawned_capacity_step_takes_its_rate_at_the_gate(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """Spawned at 5/s while the previous step ran; released at 30/s once that step's
    verdict chose the rate: the children run the new rate and report the schedule start."""
    driver = LoadDriver(_plan("", Load(model="open", rps=5, timeout=0.5), tmp_path, 2.0))
    try:
        driver.prespawn()
        assert driver.schedule_t0 is None
        before = time.time()
        driver.start(local_server.url, rps=30)
        t0 = driver.schedule_t0
        assert t0 is not None and before < t0 < time.time() + 1.0
        while driver.running():
            time.sleep(0.5)
    finally:
        result = driver.stop()
    table = pq.read_table(result.samples_path)
    assert result.requests + result.dropped == 60  # 30/s x 2 s, not 5/s
    intended = sorted(table["intended_us"].to_pylist())
    # arrival k is due when the rate's integral reaches k + 1/2: 1/60 s after t0 at 30/s
    assert intended[0] == pytest.approx((t0 + 0.5 / 30) * 1e6, abs=2)
    with pytest.raises(LoadError, match="only an open-model load without stages"):
        LoadDriver(_plan("", Load(model="closed", users=1), tmp_path / "c", 1.0)).start(rps=3)


def test_an_abandoned_prespawned_load_ends_its_children_and_writes_no_samples(
    tmp_path: Path,
) -> None:
    driver = LoadDriver(_plan("", Load(model="open", rps=5), tmp_path, 2.0))
    driver.prespawn()
    pids = [p.pid for _, p in driver._children.named()]
    driver.abandon()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped: gone
    assert not (tmp_path / "samples.parquet").exists()
    assert not driver.running()


def test_stop_without_reaping_the_master_has_every_sample_and_close_ends_the_master(
    local_server: LocalServer, tmp_path: Path
) -> None:
    load = Load(model="open", rps=20, timeout=0.5)
    driver = LoadDriver(_plan(local_server.url, load, tmp_path, 2.0))
    try:
        driver.start()
        while driver.running():
            time.sleep(0.2)
    finally:
        result = driver.stop(reap_master=False)
    workers = [p for name, p in driver._children.named() if name != "master"]
    assert all(p.poll() is not None for p in workers)  # the sample writers are gone
    assert result.requests + result.dropped == 40
    driver.close()
    assert all(p.poll() is not None for _, p in driver._children.named())


@pytest.mark.parametrize("workload", ["built-in", "declarative"])
def test_a_201_whose_body_times_out_is_a_timed_out_write(
    local_server: LocalServer, tmp_path: Path, workload: str
) -> None:
    """The status says created, the body never completes: the write may have landed."""
    local_server.behaviour.mode = "slowbody"
    local_server.behaviour.stall_s = 2.0
    if workload == "built-in":
        load = Load(model="open", rps=10, timeout=0.5, mix={"read": 0, "write": 1, "read_item": 0})
        durability = None
    else:
        load = Load(model="open", rps=10, timeout=0.5, requests=[{"path": "/", "weight": 0.001}])
        durability = DurabilityCheck.model_validate(
            {
                "write": {"path": "/items", "json": {"key": "{key}"}, "expect": [201]},
                "id": "$.id",
                "read": {"path": "/items/{id}"},
                "lookup": {"path": "/items/by-key/{key}"},
            }
        )
    plan = dataclasses.replace(_plan(local_server.url, load, tmp_path, 1.5), durability=durability)
    result = _run(LoadDriver(plan))
    rows = [
        r for r in pq.read_table(result.samples_path).to_pylist() if r["name"].startswith("POST")
    ]
    assert rows and {(r["status"], r["outcome"]) for r in rows} == {(201, "timeout")}
    assert all(r["item"].startswith("? ") for r in rows)
    keys = load_timed_out(result.samples_path)
    assert len(keys) == len(rows) and load_acked(result.samples_path) == []


@pytest.mark.parametrize("model", ["open", "closed"])
def test_no_sample_arrives_behind_the_live_watermark(
    local_server: LocalServer, tmp_path: Path, model: str
) -> None:
    """Two workers against a target that stalls every 4th request: whatever a poll
    delivers was sent at or after the watermark of the poll before (abort windows
    ending before it are complete)."""
    local_server.behaviour.mode = "mixed"
    local_server.behaviour.stall_s = 0.6
    load = (
        Load(model="open", rps=40, timeout=0.4)
        if model == "open"
        else Load(model="closed", users=6, spawn_rate=100, timeout=0.4)
    )
    driver = LoadDriver(_plan(local_server.url, load, tmp_path, 4.0, workers=2))
    behind, delivered, marks = [], 0, [-math.inf]
    try:
        driver.live_samples()
        driver.start()
        while driver.running():
            samples = driver.live_samples()
            delivered += len(samples)
            behind += [s / 1e6 for s, _, _ in samples if s / 1e6 < marks[-1]]
            marks.append(driver.live_watermark())
            time.sleep(0.2)
    finally:
        result = driver.stop()
    assert behind == []
    assert 0 < delivered <= result.requests
    # both workers reported (each flushes once a second); it never moves back
    finite = [m for m in marks if m > -math.inf]
    assert finite and finite == sorted(finite)


def _worker_pids() -> list[int]:
    """The Locust workers among this test process's children (their command line says so)."""
    return [p.pid for p in psutil.Process().children() if "--worker" in (p.cmdline() or [])]


def test_a_worker_stopped_past_locusts_heartbeats_keeps_its_whole_schedule(
    local_server: LocalServer, tmp_path: Path
) -> None:
    """A host that starves the only worker for 5 s (Locust's master gives up after 3 missed
    heartbeats and stops the test) must not end the load: every arrival is still sent."""
    load = Load(model="open", rps=20, timeout=0.5)
    driver = LoadDriver(_plan(local_server.url, load, tmp_path, 10.0))
    stopped_at = resumed_at = 0.0
    try:
        driver.start()
        (worker,) = _worker_pids()
        t0 = driver.schedule_t0
        assert t0 is not None
        while time.time() < t0 + 2.0 and driver.running():
            time.sleep(0.1)
        os.kill(worker, signal.SIGSTOP)
        stopped_at = time.time()
        time.sleep(5.0)  # the stall itself (not a wait for an outcome)
        os.kill(worker, signal.SIGCONT)
        resumed_at = time.time()
        while driver.running():
            time.sleep(0.2)
    finally:
        if stopped_at and not resumed_at:
            os.kill(worker, signal.SIGCONT)
        result = driver.stop()
    assert result.requests + result.dropped == 200  # 20/s x 10 s, none lost to the stall
    intended = [us / 1e6 for us in pq.read_table(result.samples_path)["intended_us"].to_pylist()]
    # the arrivals due during the stall were sent after it, under their intended times
    assert sum(1 for t in intended if stopped_at + 0.5 < t < resumed_at - 0.5) >= 60
    assert sum(1 for t in intended if t > resumed_at + 1.0) >= 20
