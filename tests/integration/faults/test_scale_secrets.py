"""The scale fault keeps containers' environment (and so secrets) out of the journal.

A real stack whose service has a secret-looking variable; the journal files are
read as bytes, the containers through the Docker SDK.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Stack, container, ensure_test_image, sdk, wait_until
from faultkit import planned, runner

from harness.engine import containers, helpers

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).parent / "child_run.py"

SECRET = "hunter2-" + secrets.token_hex(8)

COMPOSE = """\
services:
  api:
    image: {image}
    restart: always
    init: true
    environment:
      API_TOKEN: "{secret}"
    deploy:
      replicas: 2
  peer:
    image: {image}
    init: true
"""


@pytest.fixture(scope="module")
def secret_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    image = ensure_test_image()
    project = f"hcs-{secrets.token_hex(4)}"
    file = tmp_path_factory.mktemp(project) / "compose.yaml"
    file.write_text(COMPOSE.format(image=image, secret=SECRET))
    base = ["docker", "compose", "-p", project, "-f", str(file)]
    try:
        subprocess.run([*base, "up", "-d", "--quiet-pull"], check=True, capture_output=True)
        yield Stack(project, file)
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], check=False, capture_output=True)
        for h in helpers.list_helpers(project=project):
            helpers.remove_helper(h["id"])


def _env(c: object) -> list[str]:
    return list(c.attrs["Config"]["Env"] or [])  # type: ignore[attr-defined]


def _resolves(peer_id: str, name: str) -> bool:
    code, _ = helpers.exec_in(peer_id, f"busybox nslookup {name} 127.0.0.11", timeout=5)
    return code == 0


def test_scale_journals_no_environment_and_still_restores_it(
    secret_stack: Stack, tmp_path: Path, state_home: Path
) -> None:
    old = container(secret_stack.project, "api", 2)
    assert f"API_TOKEN={SECRET}" in _env(old)
    peer = container(secret_stack.project, "peer", 1)
    run_dir = tmp_path / "run"
    r = runner(secret_stack.project, run_dir)
    step = planned("scale", "api", (2,))
    r.apply(step, planned_wall=0.0)

    journals = [run_dir / "journal.jsonl", *state_home.rglob("*.jsonl")]
    assert len(journals) == 2
    for journal in journals:
        text = journal.read_text()
        assert SECRET not in text and "API_TOKEN" not in text
        assert '"Env"' not in text and "Config" not in text
    # what the revert needs is there: the target and the name of its parked copy
    intent = next(e for e in map(json.loads, journals[0].read_text().splitlines()) if "state" in e)
    assert intent["state"]["targets"][0]["name"] == old.name
    parked_name = intent["state"]["parked"][old.id]

    # the replica is really gone: its container, and its name in the stack's DNS
    assert not containers.exists(old.id)
    assert wait_until(lambda: not _resolves(peer.id, old.name), timeout=10)
    parked = sdk().containers.get(parked_name)
    assert parked.status == "created"  # a copy that never runs

    r.revert(step)
    new = container(secret_stack.project, "api", 2)
    assert new.id != old.id and new.name == old.name and new.status == "running"
    assert f"API_TOKEN={SECRET}" in _env(new)  # the environment came back from the engine
    assert containers.PARKED_LABEL not in new.labels
    assert not containers.exists(parked_name)
    assert wait_until(lambda: _resolves(peer.id, old.name), timeout=10)
    for journal in journals:
        assert SECRET not in journal.read_text()


def test_cleanup_after_kill_9_restores_the_replica_with_its_environment(
    secret_stack: Stack, tmp_path: Path, state_home: Path
) -> None:
    old = container(secret_stack.project, "api", 1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), secret_stack.project, str(tmp_path / "run"), "deadscale",
         "scale", "api", "1", "60", "3"],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "APPLIED"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert not containers.exists(old.id)  # hachaos is dead, the replica still removed
    journal = state_home / "hachaos" / "journal" / "deadscale.jsonl"
    assert SECRET not in journal.read_text()
    out = subprocess.run(
        [str(Path(sys.executable).parent / "hachaos"), "cleanup", "--run", "deadscale"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    new = container(secret_stack.project, "api", 1)
    assert new.name == old.name and new.status == "running"
    assert f"API_TOKEN={SECRET}" in _env(new)
    parked = sdk().containers.list(
        all=True, filters={"label": f"{containers.PARKED_LABEL}={old.name}"}
    )
    assert parked == []


def test_a_revert_cut_short_between_create_and_start_is_finished(
    secret_stack: Stack, tmp_path: Path, state_home: Path
) -> None:
    """Found by the self-chaos driver: a kill between create and start left a
    `created` replica that the next revert took for someone else's and skipped."""
    old = container(secret_stack.project, "api", 1)
    r = runner(secret_stack.project, tmp_path / "run")
    step = planned("scale", "api", (1,))
    r.apply(step, planned_wall=0.0)
    intent = next(
        e
        for e in map(json.loads, (tmp_path / "run" / "journal.jsonl").read_text().splitlines())
        if "state" in e
    )
    parked_name = intent["state"]["parked"][old.id]
    # What the killed revert had done: the replica created from the copy, never started.
    snap = containers.snapshot(parked_name)
    labels = dict(snap["config"]["Labels"])
    labels.pop(containers.PARKED_LABEL)
    half = containers._create(containers._relabelled(snap, old.name, labels))
    assert sdk().containers.get(half).status == "created"

    r.revert(step)  # raises RevertError when the replica is not running afterwards
    new = container(secret_stack.project, "api", 1)
    assert new.id == half and new.status == "running"
    assert not containers.exists(parked_name)
