"""Containers that vanish between list and inspect, on the real engine, made deterministic.

A dead-man helper that exits (auto_remove) right after `docker ps` listed it
made `hachaos cleanup` fail with `list helpers: No such container`. Here the
SDK's per-container inspect is wrapped so that the container is really
removed on the engine just before that inspect runs.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from docker.models.containers import ContainerCollection

from harness.engine import containers, helpers
from harness.errors import HarnessError
from harness.faults import heal

pytestmark = pytest.mark.docker


@pytest.fixture
def sdk() -> Iterator[docker.DockerClient]:
    c = docker.from_env()
    yield c
    c.close()


def _start(sdk: docker.DockerClient, labels: dict[str, str]) -> str:
    box = sdk.containers.run(
        "debian:bookworm-slim", ["sleep", "60"], detach=True, labels=labels, init=True
    )
    return str(box.id)


@pytest.fixture
def vanish_on_inspect(
    sdk: docker.DockerClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[set[str]]:
    """Ids put in the returned set are removed from the engine right before their inspect."""
    doomed: set[str] = set()
    real_get = ContainerCollection.get

    def get(self: ContainerCollection, container_id: str) -> Any:
        if container_id in doomed:
            doomed.discard(container_id)
            sdk.api.remove_container(container_id, force=True)
        return real_get(self, container_id)

    monkeypatch.setattr(ContainerCollection, "get", get)
    yield doomed
    for cid in list(doomed):
        with contextlib.suppress(docker.errors.NotFound):
            sdk.api.remove_container(cid, force=True)


def test_a_helper_that_vanishes_after_listing_is_not_an_error(
    sdk: docker.DockerClient,
    vanish_on_inspect: set[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    run = f"vanish-{secrets.token_hex(4)}"
    project = f"hachaos-vanish-{secrets.token_hex(3)}"
    stays = _start(sdk, helpers.labels(run, project))
    goes = _start(sdk, helpers.labels(run, project))
    vanish_on_inspect.add(goes)
    try:
        listed = helpers.list_helpers(run_id=run)
        assert [h["id"] for h in listed] == [stays]
        with pytest.raises(docker.errors.NotFound):
            sdk.containers.get(goes)  # it really is gone from the engine
        # The same race inside cleanup: nothing fails, the survivor is removed.
        vanish_on_inspect.add(stays)
        result = heal.heal(run_id=run)
        assert result.failed == []
        assert sdk.containers.list(all=True, filters={"label": f"{helpers.RUN_LABEL}={run}"}) == []
    finally:
        for cid in (stays, goes):
            with contextlib.suppress(docker.errors.NotFound):
                sdk.api.remove_container(cid, force=True)


def test_a_target_that_vanishes_after_listing_is_not_an_error(
    sdk: docker.DockerClient, vanish_on_inspect: set[str]
) -> None:
    project = f"hachaos-vanish-{secrets.token_hex(3)}"
    labels = {containers.PROJECT: project, containers.SERVICE: "app", containers.NUMBER: "1"}
    stays = _start(sdk, labels)
    goes = _start(sdk, {**labels, containers.NUMBER: "2"})
    vanish_on_inspect.add(goes)
    try:
        assert [t.id for t in containers.project_targets(project)] == [stays]
    finally:
        for cid in (stays, goes):
            with contextlib.suppress(docker.errors.NotFound):
                sdk.api.remove_container(cid, force=True)


def test_a_helper_that_cannot_start_leaves_no_container(sdk: docker.DockerClient) -> None:
    """Seen in a release suite: an isolation probe joined the netns of an app replica that a
    kill fault had just stopped; `containers.run` created the helper, the start failed, and
    the created container outlived the run."""
    helpers.ensure_image()
    run_id = f"test-{secrets.token_hex(4)}"
    target = sdk.containers.create("debian:bookworm-slim", ["sleep", "60"])  # never started
    try:
        with pytest.raises(HarnessError):
            helpers.run_once(
                ["true"], run_id=run_id, project="p", network_mode=f"container:{target.id}"
            )
        with pytest.raises(HarnessError):
            helpers.start_netns_helper(
                str(target.id), f"hx-{run_id}", "sleep 1", run_id=run_id, project="p"
            )
        assert helpers.list_helpers(run_id=run_id) == []
    finally:
        target.remove(force=True)
        for h in helpers.list_helpers(run_id=run_id):
            helpers.remove_helper(h["id"])
