"""Swarm runs on this kernel (no IPVS), for real (issue 22): a working stack is run, a
refused one leaves the engine as it was, the swarm is left only after the stack's
teardown, and the docker_gwbridge network a swarm hachaos created is removed with it.

Every test compares the engine's swarm state and its docker_gwbridge network before and
after: a swarm hachaos found is kept, and a docker_gwbridge that was there before (left
by someone else's swarm) is kept with the same id, one the run's swarm made is gone.
Hold /tmp/hachaos-swarm.lock around these tests: they may init and leave a swarm.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import load_json, only_run_dir
from tests.e2e.test_swarm_runs import _docker, _swarm_state, stack_leftovers, stacks_after
from tests.e2e.test_swarm_runs import _run as swarm_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["stacks_after"]  # the fixture, shared with test_swarm_runs.py

HELD_OUT = "tests/e2e/scenarios/swarm-vip-front.yaml"


def _gwbridge() -> str:
    return _docker(
        "network", "ls", "-q", "--no-trunc", "--filter", "name=^docker_gwbridge$"
    ).strip()


@pytest.fixture
def engine_as_found() -> Iterator[tuple[str, str]]:
    """The swarm state and docker_gwbridge id before; both must be the same after."""
    before = (_swarm_state(), _gwbridge())
    yield before
    assert (_swarm_state(), _gwbridge()) == before, "the engine is not as the test found it"


def _run(scenario: str, out: Path, stack: str, state: Path) -> subprocess.CompletedProcess[str]:
    return swarm_run(scenario, out, stack, state, timeout=900)  # a 300 s ready timeout


def _scenario(tmp_path: Path, compose: str, target: str, ready_timeout: str) -> Path:
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "compose.yaml").write_text(compose)
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "version: 1\nname: as-found\n"
        f"stack: {{engine: swarm, compose: stack/compose.yaml, target: {target},"
        f" ready_timeout: {ready_timeout}}}\n"
        "load: {model: open, rps: 5}\ntiming: {warmup: 1s, duration: 5s}\n"
    )
    return path


def test_the_held_out_vip_front_stack_runs(
    tmp_path: Path, stacks_after: list[str], engine_as_found: tuple[str, str]
) -> None:
    """A vip entry published in host mode, dnsrr behind it: refused before issue 22 (exit 3,
    `service 'front' uses endpoint_mode vip`); it works, so it runs: exit 0 or 1."""
    stack = f"hachaos-e2e-vip-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    proc = _run(HELD_OUT, tmp_path / "out", stack, tmp_path / "state")
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), text
    assert "cannot run on this swarm" not in text and "teardown failed" not in text
    summary = load_json(only_run_dir(tmp_path / "out") / "summary.json")
    assert summary["headline"]["requests"] > 0
    assert stack_leftovers(stack) == []


VIP_REACHED_BY_NAME = """\
services:
  web:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    environment: {STORE: "store:6379"}
    ports: [{target: 8080, published: 18999, mode: host}]
    deploy: {endpoint_mode: dnsrr}
  store:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
"""


def test_a_refused_stack_leaves_the_engine_as_it_was(
    tmp_path: Path, stacks_after: list[str], engine_as_found: tuple[str, str]
) -> None:
    """`store` is vip and `web` reaches it by name: that cannot work here, so it is refused
    before the swarm is touched, with one error and no failed teardown (before issue 22:
    a second error, `teardown failed: ... not a swarm manager`, and a Compose hint). Like
    every refusal after validation (an existing project...), the run's exit code is 3."""
    stack = f"hachaos-e2e-ref-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    scenario = _scenario(tmp_path, VIP_REACHED_BY_NAME, "{service: web, port: 8080}", "30s")
    proc = _run(str(scenario), tmp_path / "out", stack, tmp_path / "state")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, text
    assert "service 'web' reaches it by name (environment STORE)" in text
    assert text.count("error:") == 1, text
    assert "teardown failed" not in text and "docker compose" not in text
    assert stack_leftovers(stack) == []


NEVER_HEALTHY = """\
services:
  stuck:
    image: debian:bookworm-slim
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 1}
    deploy: {endpoint_mode: dnsrr}
"""


def test_the_swarm_is_left_only_after_the_stacks_teardown(
    tmp_path: Path, stacks_after: list[str], engine_as_found: tuple[str, str]
) -> None:
    """A stack that never gets healthy: hachaos creates the swarm, deploys, gives up, tears
    the stack down, and only then leaves the swarm and removes the docker_gwbridge it made
    (the fixture checks both are as found)."""
    if _swarm_state() != "inactive":
        pytest.skip("the engine is already in a swarm that this test must not leave")
    stack = f"hachaos-e2e-ord-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    scenario = _scenario(tmp_path, NEVER_HEALTHY, '"http://127.0.0.1:9/"', "15s")
    proc = _run(str(scenario), tmp_path / "out", stack, tmp_path / "state")
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, text  # the stack never converged: an infrastructure error
    assert "did not reach its desired replicas" in text
    assert "teardown failed" not in text
    teardown = text.index(f"swarm teardown ({stack})")
    left = text.index("left the swarm this run created")
    assert teardown < left, text
    assert stack_leftovers(stack) == []


def _resolves(client: str, peer: str) -> bool:
    """Whether ``client`` finds ``peer`` through the engine's embedded DNS."""
    return (
        subprocess.run(
            ["docker", "exec", client, "getent", "hosts", peer],
            capture_output=True,
            timeout=30,
            check=False,
        ).returncode
        == 0
    )


def test_no_swarm_is_created_while_containers_depend_on_the_embedded_dns(
    tmp_path: Path, stacks_after: list[str], engine_as_found: tuple[str, str]
) -> None:
    """moby/moby#45144: on this engine `swarm init` then `swarm leave --force` cuts the
    containers already running on user-defined networks off their DNS for good. Two such
    containers (someone else's, here the test's): the run that would create the swarm
    refuses before touching the engine (exit 3, their names in the error) and they still
    resolve each other after it."""
    if engine_as_found[0] != "inactive":
        pytest.skip("the engine is a swarm already: hachaos uses it and never leaves it")
    net = f"hachaos-e2e-dns-{secrets.token_hex(3)}"
    stack = f"hachaos-e2e-dns-{secrets.token_hex(3)}"
    stacks_after.append(stack)
    names = [f"{net}-a", f"{net}-b"]
    try:
        _docker("network", "create", net)
        for name in names:
            _docker("run", "-d", "--init", "--name", name, "--network", net,
                    "debian:bookworm-slim", "sleep", "600")  # fmt: skip
        assert _resolves(names[0], names[1])
        proc = _run(HELD_OUT, tmp_path / "out", stack, tmp_path / "state")
        text = proc.stdout + proc.stderr
        assert proc.returncode == 3, text
        assert "moby/moby#45144" in text and all(n in text for n in names), text
        assert text.count("error:") == 1 and "teardown failed" not in text, text
        assert _swarm_state() == "inactive"
        assert _resolves(names[0], names[1])
        assert stack_leftovers(stack) == []
    finally:
        for name in names:
            _docker("rm", "-f", name)
        _docker("network", "rm", net)
