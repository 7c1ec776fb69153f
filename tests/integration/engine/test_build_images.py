"""Build images on the real engine: one tag per content, whatever the folder; stale ones pruned.

Each test builds a service with a name of its own (``box-<random>``), so its
``hachaos-build/box-<random>`` repository is the test's alone on a shared engine;
everything it built is removed afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engine.compose.images import prune_builds
from harness.engine.compose.project import ComposeProject, stable_image_names

pytestmark = pytest.mark.docker

COMPOSE = """
services:
  {service}:
    build: ./box
    command: ["sleep", "infinity"]
"""


def _docker(*args: str) -> list[str]:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.split()


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # this test's build records
    name = f"box-{secrets.token_hex(4)}"
    yield name
    for c in _docker("ps", "-aq", "--filter", f"label=hachaos.test={name}"):
        subprocess.run(["docker", "rm", "-f", c], capture_output=True, check=False, timeout=60)
    for tag in _docker("images", "--format", "{{.Repository}}:{{.Tag}}", f"hachaos-build/{name}"):
        subprocess.run(["docker", "rmi", tag], capture_output=True, check=False, timeout=60)


def _checkout(root: Path, service: str, content: str) -> ComposeProject:
    """A stack folder as a clone holds it: compose.yaml and a build context."""
    (root / "box").mkdir(parents=True)
    (root / "box" / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY hello.txt /\n")
    (root / "box" / "hello.txt").write_text(content)
    (root / "compose.yaml").write_text(COMPOSE.format(service=service))
    return ComposeProject(root / "compose.yaml", "hachaos-build")


def _tags(service: str) -> set[str]:
    return set(_docker("images", "--format", "{{.Tag}}", f"hachaos-build/{service}"))


def test_the_same_stack_from_two_folders_builds_one_tag(tmp_path: Path, service: str) -> None:
    _checkout(tmp_path / "clone-1", service, "v1\n").build()
    _checkout(tmp_path / "clone-2", service, "v1\n").build()
    assert len(_tags(service)) == 1
    _checkout(tmp_path / "clone-3", service, "v2\n").build()
    assert len(_tags(service)) == 2  # a new content, a new tag


def test_stale_tags_go_but_never_one_a_container_uses(tmp_path: Path, service: str) -> None:
    for n in range(4):
        _checkout(tmp_path / f"clone-{n}", service, f"v{n}\n").build()
    # every build pruned its service: nothing went, all four were built within the hour
    tags = _tags(service)
    assert len(tags) == 4
    # age the records: v0 first, v3 last, all two hours and more ago
    records = tmp_path / "state" / "hachaos" / "builds"
    order = sorted(records.iterdir(), key=lambda p: p.stat().st_mtime)
    assert len(order) == 4
    for i, record in enumerate(order):
        stamp = time.time() - 7200 - 60 * (4 - i)
        os.utime(record, (stamp, stamp))
    oldest = f"hachaos-build/{service}:{order[0].name.split('@')[1]}"
    # a stopped container still uses the oldest one; an image hachaos did not build
    # but named like its own (no compose label) is never touched either
    _docker("create", "--label", f"hachaos.test={service}", oldest, "true")
    _docker("tag", "debian:bookworm-slim", f"hachaos-build/{service}:foreign")
    repo = {f"hachaos-build/{service}"}
    removed = prune_builds(keep=2, repositories=repo)
    v1 = f"hachaos-build/{service}:{order[1].name.split('@')[1]}"
    assert removed == [v1]  # v3 and v2 kept (newest two), v0 in use
    left = _tags(service)
    assert left == {order[0].name.split("@")[1], order[2].name.split("@")[1],
                    order[3].name.split("@")[1], "foreign"}  # fmt: skip
    assert prune_builds(keep=0, repositories=repo, grace_s=0) != []  # v2, v3: unused
    assert _tags(service) == {order[0].name.split("@")[1], "foreign"}
    assert not (records / order[1].name).exists()  # a removed tag's record goes with it


def test_a_cached_rebuild_counts_as_new(tmp_path: Path, service: str) -> None:
    """An old content built again from the layer cache keeps its old creation time; the
    build record makes it the newest, so the next prune keeps it."""
    _checkout(tmp_path / "a", service, "old\n").build()
    old_tag = _stable_name(tmp_path / "a")
    for n in range(2):
        _checkout(tmp_path / f"b{n}", service, f"new{n}\n").build()
    for record in (tmp_path / "state" / "hachaos" / "builds").iterdir():
        os.utime(record, (time.time() - 7200, time.time() - 7200))
    shutil.rmtree(tmp_path / "a")
    _checkout(tmp_path / "a", service, "old\n").build()  # from the cache; recorded now
    # the build's own prune (keep 2): the rebuilt old content and one new one stay
    left = _tags(service)
    assert len(left) == 2 and old_tag.split(":")[1] in left


def _stable_name(root: Path) -> str:
    out = subprocess.run(
        ["docker", "compose", "-f", str(root / "compose.yaml"), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [name] = stable_image_names(json.loads(out.stdout)).values()
    return name
