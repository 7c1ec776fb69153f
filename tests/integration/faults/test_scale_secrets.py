"""The scale fault keeps containers' environment (and so secrets) out of the journal.

A real stack whose service has a secret-looking variable; the journal files are
read as bytes, the containers through the Docker SDK.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Stack, container, ensure_test_image, sdk, wait_until
from faultkit import planned, runner

from harness.engine import containers, helpers

pytestmark = pytest.mark.docker

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
