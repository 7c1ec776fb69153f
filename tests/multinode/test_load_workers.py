"""Load workers on the nodes of a three-node swarm (`load.workers.swarm`, docs/load.md).

Three extra engines (scripts/swarm-node): node 245 manages a swarm of its own, nodes
246 and 247 join it. hachaos runs here against node 245's engine (``DOCKER_HOST``): the
stack (tests/multinode/load: one HTTP target on the manager) and a worker service of 3
replicas that Swarm spreads over the three nodes. The master listens on this host's end
of node 245's link only. The tests hold /tmp/hachaos-swarm.lock throughout.

- A whole run: every arrival of the open schedule is recorded exactly once, by workers
  on all three nodes, with their clock offsets measured; the worker service is gone after.
- A worker container killed mid-run: the run stops with exit 3 within seconds, naming
  the worker, and keeps the samples recorded so far.
- SIGKILL of hachaos mid-run, then `hachaos cleanup`: the worker service and the stack
  are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from harness.engine.worker_image import ensure_worker_image, image_tag
from harness.load.bundle import worker_bundle
from tests.e2e.conftest import open_schedule
from tests.multinode.nodes import ok, run, sock

pytestmark = pytest.mark.multinode

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "swarm-node"
HERE = Path(__file__).resolve().parent / "load"
SCENARIO = HERE / "workers-on-nodes.yaml"
HACHAOS = Path(sys.executable).with_name("hachaos")
MANAGER, NODES = 245, (246, 247)  # clear of test_swarm_nodes.py's 241/242
BASE = "debian:bookworm-slim"
RPS, TOTAL_S = 30, 16.0  # the scenario's rate and warmup + duration + cooldown
LOCK = Path("/tmp/hachaos-swarm.lock")


def _script(verb: str, n: int, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([str(SCRIPT), verb, str(n), *args], timeout=600, **env)


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces and extra dockerd engines)"
    for tool in ("ip", "iptables", "nsenter", "unshare", "setsid", "docker", "flock"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed"
    if not Path("/usr/sbin/dockerd").is_file():
        return "/usr/sbin/dockerd is not installed (apt-get install docker.io)"
    if run(["docker", "image", "inspect", BASE]).returncode != 0:
        return f"{BASE} is not on the main engine (scripts/ensure-docker makes it)"
    probe = run(["unshare", "--net", "ip", "link", "add", "vx", "type", "vxlan", "id", "4"])
    if probe.returncode != 0:
        return f"the kernel cannot create a VXLAN device: {probe.stderr.strip()}"
    return None


@contextlib.contextmanager
def three_node_swarm() -> Iterator[dict[str, str]]:
    """Under the swarm lock: nodes 245 (manager), 246 and 247 with the base and worker
    images; yields the environment that points hachaos at the manager's engine."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one multi-node user of the machine at a time
        bundle = worker_bundle()
        ensure_worker_image(bundle.files, bundle.python, bundle.digest)  # on the main engine
        images = f"{BASE} {image_tag(bundle.digest)}"
        for n in (*NODES, MANAGER):  # what an interrupted earlier run may have left
            _script("down", n)
        try:
            ok(_script("up", MANAGER, ROLE="manager", IMAGES=images))
            for n in NODES:
                ok(_script("up", n, MANAGER=f"node:{MANAGER}", IMAGES=images))
            yield {"DOCKER_HOST": sock(MANAGER)}
        finally:
            for n in (*NODES, MANAGER):
                _script("down", n)


@pytest.fixture(scope="module")
def swarm() -> Iterator[dict[str, str]]:
    reason = _missing()
    if reason:
        pytest.skip(f"multi-node swarm: {reason}")
    with three_node_swarm() as env:
        yield env


def _hachaos(env: dict[str, str], out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(HACHAOS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env, "XDG_STATE_HOME": str(out / "state")},
        start_new_session=True,
    )


def _services(env: dict[str, str]) -> list[str]:
    out = ok(run(["docker", "service", "ls", "--format", "{{.Name}}"], **env))
    return out.split()


def _run_folder(out: Path) -> Path:
    (folder,) = [p.parent for p in (out / "reports").glob("*/*/run.json")]
    return folder


def test_workers_on_three_nodes_record_every_scheduled_request_once(
    swarm: dict[str, str], tmp_path: Path
) -> None:
    proc = _hachaos(swarm, tmp_path, "run", "-q", str(SCENARIO), "--out", str(tmp_path / "reports"))
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    folder = _run_folder(tmp_path)
    samples = pq.read_table(folder / "samples.parquet").to_pandas()
    started = json.loads((folder / "samples" / "started.json").read_text())
    intended = sorted(round(v - started["t0"] * 1e6) for v in samples["intended_us"])
    expected = open_schedule(RPS, TOTAL_S, 3)
    assert len(expected) == int(RPS * TOTAL_S)
    assert len(intended) == len(expected)  # none lost, none twice
    assert max(abs(a - b) for a, b in zip(intended, expected, strict=True)) <= 2
    assert set(samples["outcome"]) == {"ok"}
    assert samples.groupby("worker").size().to_dict() == {"w0": 160, "w1": 160, "w2": 160}
    run = json.loads((folder / "run.json").read_text())
    workers = run["load_workers"]["workers"]
    nodes = {w["host"].rsplit("-w", 1)[0] for w in workers}
    assert nodes == {f"hachaos-node-{n}" for n in (MANAGER, *NODES)}
    assert all(w["clock_offset_ms"] is not None and not w["local"] for w in workers)
    assert all(w["cpu_s"] > 0 for w in workers)
    assert "clock offset to the master" in output
    assert not any(s.endswith("-hachaos-load") for s in _services(swarm))


def test_a_worker_killed_mid_run_stops_the_run_with_exit_3_and_keeps_the_samples(
    swarm: dict[str, str], tmp_path: Path
) -> None:
    proc = _hachaos(swarm, tmp_path, "run", "-q", str(SCENARIO), "--out", str(tmp_path / "reports"))
    node = sock(NODES[-1])
    victim = ""
    deadline = time.monotonic() + 240
    while not victim and time.monotonic() < deadline and proc.poll() is None:
        ids = run(["docker", "-H", node, "ps", "-q", "--filter", "label=io.hachaos.load-workers"])
        started = list((tmp_path / "reports").glob("*/*/samples/started.json"))
        if ids.stdout.strip() and started:
            time.sleep(3.0)  # a few seconds into the test
            victim = ids.stdout.split()[0]
        time.sleep(0.5)
    assert victim, "no worker ran on the last node"
    ok(run(["docker", "-H", node, "kill", victim]))
    killed = time.monotonic()
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 3, output
    assert f"hachaos-node-{NODES[-1]}" in output and "stopped sending heartbeats" in output
    noticed = time.monotonic() - killed
    folder = _run_folder(tmp_path)
    assert (folder / "summary.json").exists()  # the report was still written
    samples = pq.read_table(folder / "samples.parquet")  # the data kept
    assert 0 < samples.num_rows < int(RPS * TOTAL_S)
    assert "load.workers_removed" in (folder / "events.jsonl").read_text()
    print(f"\nworker killed -> hachaos exited 3 after {noticed:.1f} s (teardown included)")


def test_sigkill_of_hachaos_then_cleanup_removes_the_worker_service(
    swarm: dict[str, str], tmp_path: Path
) -> None:
    proc = _hachaos(swarm, tmp_path, "run", "-q", str(SCENARIO), "--out", str(tmp_path / "reports"))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if any(s.endswith("-hachaos-load") for s in _services(swarm)):
            break
        time.sleep(0.5)
    assert any(s.endswith("-hachaos-load") for s in _services(swarm))
    os.killpg(proc.pid, signal.SIGKILL)  # hachaos and its Locust children
    proc.communicate(timeout=30)
    cleanup = _hachaos(swarm, tmp_path, "cleanup")
    output, _ = cleanup.communicate(timeout=300)
    assert cleanup.returncode == 0, output
    assert "removed load worker service" in output
    assert _services(swarm) == []
