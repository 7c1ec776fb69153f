"""The guards' wiring: check commands (no shell, timeout, bounded output), probe URLs, GETs."""

from __future__ import annotations

import os
import select
import shlex
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ScenarioError
from harness.run.guards import (
    MAX_OUTPUT,
    AbortWatch,
    Endpoints,
    http_get,
    run_command,
    steady_round,
)
from harness.scenario.guards import Abort, SteadyProbe

PY = sys.executable


def test_command_exit_codes_and_environment(tmp_path: Path) -> None:
    ok = run_command([PY, "-c", "print('fine')"], timeout=30, cwd=tmp_path, env={})
    assert (ok.ok, ok.returncode, ok.output.strip()) == (True, 0, "fine")
    bad = run_command(
        [PY, "-c", "import os, sys; print(os.environ['HACHAOS_RUN_ID']); sys.exit(4)"],
        timeout=30,
        cwd=tmp_path,
        env={"HACHAOS_RUN_ID": "run-7"},
    )
    assert (bad.ok, bad.returncode, bad.output.strip()) == (False, 4, "run-7")
    assert bad.describe().startswith("exited 4 after ")
    assert bad.describe().endswith(": run-7")


def test_command_is_never_run_through_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    result = run_command(
        [PY, "-c", "import sys; print(sys.argv[1])", f"x; touch {marker}"],
        timeout=30,
        cwd=tmp_path,
        env={},
    )
    assert result.ok and result.output.strip() == f"x; touch {marker}"
    assert not marker.exists()


def test_command_runs_in_the_given_folder(tmp_path: Path) -> None:
    (tmp_path / "check.py").write_text("import sys; sys.exit(0 if __file__ else 1)\n")
    assert run_command([PY, "check.py"], timeout=30, cwd=tmp_path, env={}).ok
    missing = run_command(["./no-such-check"], timeout=30, cwd=tmp_path, env={})
    assert (missing.ok, missing.returncode) == (False, 127)
    assert "cannot run './no-such-check'" in missing.output


def _exits_within(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` (not our child) to end: a pidfd turns readable when it does."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def test_command_timeout_kills_it_and_its_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # sh, not python: it reaches `started` in milliseconds, far inside the 3 s timeout.
    script = f"sleep 60 & echo $! > {shlex.quote(str(pidfile))}; echo started; sleep 60"
    result = run_command(["sh", "-c", script], timeout=3, cwd=tmp_path, env={})
    assert (result.ok, result.returncode) == (False, None)
    assert result.output.strip() == "started"
    assert result.describe().startswith("timed out after ")
    # The whole process group got SIGKILL, the background sleep too (delivery is
    # asynchronous: wait for its exit; a grandchild outside the group would run for 60 s).
    assert _exits_within(int(pidfile.read_text()), timeout=10)


def test_command_output_keeps_only_the_tail(tmp_path: Path) -> None:
    script = "import sys; sys.stdout.write('a' * 100000 + 'THE END'); sys.exit(1)"
    result = run_command([PY, "-c", script], timeout=30, cwd=tmp_path, env={})
    assert len(result.output) == MAX_OUTPUT
    assert result.output.endswith("aTHE END")


def test_endpoints_stay_on_loopback() -> None:
    seen: list[tuple[str, int]] = []

    def resolve(service: str, port: int) -> tuple[str, int]:
        seen.append((service, port))
        return ("0.0.0.0", 32768)

    ep = Endpoints("http://127.0.0.1:8080/base/", resolve)
    assert ep.url(None, None, "/api/status?x=1") == "http://127.0.0.1:8080/base/api/status?x=1"
    assert ep.url("jobs", 9000, "/health") == "http://127.0.0.1:32768/health"
    assert seen == [("jobs", 9000)]
    with pytest.raises(ScenarioError, match=r"only go to 127\.0\.0\.1"):
        Endpoints("http://10.0.0.5:8080", resolve).url(None, None, "/")
    with pytest.raises(ScenarioError):
        Endpoints("http://127.0.0.1:1", lambda s, p: ("192.168.1.9", 80)).url("x", 1, "/")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://example.com/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"state": "ok"}' if self.path == "/status" else b"x" * 200_000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_get_never_follows_a_redirect_and_bounds_the_body(server: str) -> None:
    moved = http_get(server + "/redirect", 5.0)
    assert (moved.status, moved.error) == (302, "")
    big = http_get(server + "/big", 5.0)
    assert big.status == 200 and len(big.body) == 64 * 1024
    gone = http_get("http://127.0.0.1:1/", 1.0)  # nothing listens on port 1
    assert gone.status == 0 and gone.error.startswith("ConnectionRefusedError")


def test_steady_round_against_a_live_server(server: str) -> None:
    probes = [
        SteadyProbe.model_validate(
            {"path": "/status", "json": {"path": "$.state", "equals": "ok"}}
        ),
        SteadyProbe.model_validate({"name": "moved", "path": "/redirect"}),
    ]
    results = steady_round(probes, Endpoints(server, lambda s, p: ("127.0.0.1", 1)))
    assert [(r.probe, r.ok, r.status) for r in results] == [
        ("/status", True, 200),
        ("moved", False, 302),
    ]
    assert results[1].saw == "status 302, expected 200"


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(503 if self.path == "/down" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _watch(conditions: list[dict[str, object]], target: str, cwd: Path) -> Any:
    spec = Abort.model_validate({"conditions": conditions})
    now = time.time()
    watch = AbortWatch(
        spec,
        start_wall=now,
        end_wall=now + 60,
        endpoints=Endpoints(target, lambda s, p: ("127.0.0.1", 1)),
        cwd=cwd,
        env={"HACHAOS_RUN_ID": "r1"},
    )
    watch.start()
    try:
        for _ in range(200):  # at most ~20 s; each probe/command round is far shorter
            trip = watch.check([])
            if trip is not None:
                return trip
            time.sleep(0.1)
        return None
    finally:
        watch.stop()


def test_watch_trips_on_a_probe_failing_in_a_row(tmp_path: Path) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        trip = _watch(
            [
                {"type": "probe", "path": "/up", "every": "0.2s", "failures": 2},
                {"type": "probe", "path": "/down", "every": "0.2s", "failures": 3},
            ],
            target,
            tmp_path,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert trip is not None
    assert (trip.index, trip.type, trip.measured, trip.detail) == (1, "probe", 3.0, "status 503")


def test_watch_trips_on_a_failing_command(tmp_path: Path) -> None:
    (tmp_path / "check.py").write_text(
        "import os, sys\nprint('replica lag on', os.environ['HACHAOS_RUN_ID'])\nsys.exit(2)\n"
    )
    trip = _watch(
        [{"type": "command", "argv": [PY, "check.py"], "every": "1s", "timeout": "10s"}],
        "http://127.0.0.1:1",
        tmp_path,
    )
    assert trip is not None and (trip.index, trip.type) == (0, "command")
    assert trip.detail.startswith("exited 2 after ")
    assert trip.detail.endswith(": replica lag on r1")
