"""hachaos touches only stacks it deployed, and leaves nothing of them behind (real engine).

The stacks here are tiny (debian:bookworm-slim sleeping); the load goes to an
HTTP server in this test process on 127.0.0.1, so a run takes seconds.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import HACHAOS, ROOT

pytestmark = pytest.mark.e2e

BUILD_ONLY = """\
services:
  box:
    build: .
    init: true
    volumes: [data:/data]
volumes:
  data:
"""
DOCKERFILE = 'FROM debian:bookworm-slim\nCMD ["sh", "-c", "sleep 600"]\n'
VICTIM = """\
services:
  db:
    image: debian:bookworm-slim
    command: ["sh", "-c", "sleep 600"]
    init: true
    volumes: [data:/data]
volumes:
  data:
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def target() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers 200 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _scenario(folder: Path, compose: str, target: str, *, duration: str = "2s") -> Path:
    (folder / "compose.yaml").write_text(compose)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    faults = (
        "faults:\n  - {type: loss, percent: 50%, target: {service: box}, at: 1s, for: 50s}\n"
        if duration != "2s"
        else ""
    )
    path = folder / "scenario.yaml"
    path.write_text(
        f"""version: 1
name: e2e-ownership
stack: {{compose: compose.yaml, target: "{target}", ready_timeout: 60s}}
load: {{model: open, rps: 5, processes: 1}}
timing: {{warmup: 1s, duration: {duration}, cooldown: 1s}}
{faults}"""
    )
    return path


def _docker(*args: str) -> list[str]:
    out = subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [line for line in out.splitlines() if line]


def _objects(project: str) -> dict[str, list[str]]:
    """Every container, network, volume and image that carries the project's label."""
    label = f"label=com.docker.compose.project={project}"
    return {
        "containers": _docker("ps", "-aq", "--filter", label),
        "networks": _docker("network", "ls", "-q", "--filter", label),
        "volumes": _docker("volume", "ls", "-q", "--filter", label),
        "images": _docker("images", "-aq", "--filter", label),
    }


def _hachaos(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HACHAOS, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **env},
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_STATE_HOME": str(tmp_path / "state")}


@pytest.fixture
def projects() -> Iterator[list[str]]:
    """Projects registered here are removed after the test, whatever happened."""
    names: list[str] = []
    yield names
    for project in names:
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "-v", "-t", "1"],
            capture_output=True,
            check=False,
            timeout=120,
        )


def test_an_existing_project_is_refused_and_adopting_it_keeps_its_volume(
    tmp_path: Path, target: str, env: dict[str, str], projects: list[str]
) -> None:
    victim = f"victim-{secrets.token_hex(3)}"
    projects.append(victim)
    scenario = _scenario(tmp_path, VICTIM, target)
    compose = ["docker", "compose", "-f", str(tmp_path / "compose.yaml"), "-p", victim]
    subprocess.run([*compose, "up", "-d"], check=True, capture_output=True, timeout=120)
    before = _objects(victim)
    assert len(before["containers"]) == 1 and len(before["volumes"]) == 1

    refused = _hachaos("run", str(scenario), "--quiet", "--out", str(tmp_path / "out"),
                       "--project", victim, env=env)  # fmt: skip
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"compose project '{victim}' already exists" in refused.stdout + refused.stderr
    assert "--adopt-existing" in refused.stdout + refused.stderr
    assert _objects(victim) == before
    assert _docker("inspect", "-f", "{{.State.Status}}", before["containers"][0]) == ["running"]

    adopted = _hachaos("run", str(scenario), "--quiet", "--out", str(tmp_path / "out"),
                       "--project", victim, "--adopt-existing", env=env)  # fmt: skip
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "left up" in adopted.stdout + adopted.stderr
    after = _objects(victim)
    assert after["volumes"] == before["volumes"]
    assert after["containers"] == before["containers"]  # the very same container, still up


def test_two_runs_of_a_build_only_stack_leave_nothing_behind(
    tmp_path: Path, target: str, env: dict[str, str], projects: list[str]
) -> None:
    scenario = _scenario(tmp_path, BUILD_ONLY, target)
    # The engine is shared: only images built for this stack (service "box" under
    # the build project) or labelled with one of this test's projects count.
    built = ["images", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.service=box",
             "--filter", "label=com.docker.compose.project=hachaos-build"]  # fmt: skip
    images_before = set(_docker(*built))
    stable: set[str] = set()
    try:
        for _ in range(2):
            project = f"hachaos-e2e-img-{secrets.token_hex(3)}"
            projects.append(project)
            ran = _hachaos("run", str(scenario), "--quiet", "--out", str(tmp_path / "out"),
                           "--project", project, env=env)  # fmt: skip
            assert ran.returncode == 0, ran.stdout + ran.stderr
            # No container, network, volume or image of the run's project is left.
            assert _objects(project) == {"containers": [], "networks": [], "volumes": [],
                                         "images": []}  # fmt: skip
            stable |= set(_docker("images", "-q", "--no-trunc", "hachaos-build/box"))
        # At most one cached image, named after the stack, never one per run.
        assert len(stable) <= 1
        assert set(_docker(*built)) - images_before <= stable
    finally:
        for tag in _docker("images", "--format", "{{.Repository}}:{{.Tag}}", "hachaos-build/box"):
            subprocess.run(["docker", "rmi", tag], capture_output=True, check=False, timeout=60)


def _wait_for_apply(out: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        for log in out.glob("*/*/events.jsonl"):
            for line in log.read_text().splitlines():
                if '"fault.apply"' in line and json.loads(line).get("ok"):
                    return
        time.sleep(0.3)
    pytest.fail(f"the fault was not applied within {timeout} s")


def test_cleanup_after_kill_9_removes_the_dead_runs_stack(
    tmp_path: Path, target: str, env: dict[str, str], projects: list[str]
) -> None:
    project = f"hachaos-e2e-k9s-{secrets.token_hex(3)}"
    projects.append(project)
    scenario = _scenario(tmp_path, BUILD_ONLY, target, duration="60s")
    proc = subprocess.Popen(
        [*HACHAOS, "run", str(scenario), "--quiet", "--out", str(tmp_path / "out"),
         "--project", project],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **env},
    )  # fmt: skip
    try:
        _wait_for_apply(tmp_path / "out", proc)
        assert _objects(project)["containers"], "the stack should be up"
        helper = _docker("ps", "-q", "--filter", f"label=io.hachaos.project={project}")
        assert helper, "the loss fault's helper should be running"
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)  # no handler runs: fault, stack, everything stays
        proc.communicate(timeout=60)
        for child in children:  # the Locust processes of this run, by pid
            if child.is_running():
                child.kill()
        assert _objects(project)["containers"]
        (tmp_path / "compose.yaml").unlink()  # gone too: removal must work by label alone

        cleaned = _hachaos("cleanup", env=env)
        assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
        assert f"removed stack {project}" in cleaned.stdout
        assert _objects(project) == {"containers": [], "networks": [], "volumes": [],
                                     "images": []}  # fmt: skip
        assert _docker("ps", "-aq", "--filter", f"label=io.hachaos.project={project}") == []
        again = _hachaos("cleanup", env=env)
        assert again.returncode == 0 and "nothing to clean up" in again.stdout, again.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
        for tag in _docker("images", "--format", "{{.Repository}}:{{.Tag}}", "hachaos-build/box"):
            subprocess.run(["docker", "rmi", tag], capture_output=True, check=False, timeout=60)
