"""`build_once` on the real engine: builds a missing image once, reuses it after, and a
failed build is an EngineError with the caller's words (the helper and worker images)."""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from harness.engine.image_build import build_once
from harness.errors import EngineError

pytestmark = pytest.mark.docker

LABEL = "io.hachaos.test-build-once"


def _context(dockerfile: str) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"hachaos-test-build-once:{secrets.token_hex(4)}"
    yield name
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker.from_env().images.remove(name, force=True)


def test_a_missing_image_is_built_once_then_reused(tag: str) -> None:
    made: list[int] = []

    def context() -> io.BytesIO:
        made.append(1)
        return _context("FROM debian:bookworm-slim\nRUN echo built > /built\n")

    assert build_once(tag, context, {LABEL: "1"}, what="the test image", hint="-") == tag
    image = docker.from_env().images.get(tag)
    assert image.labels.get(LABEL) == "1"
    assert build_once(tag, context, {LABEL: "1"}, what="the test image", hint="-") == tag
    assert made == [1]  # the second call found it: no context made, nothing built
    assert docker.from_env().images.get(tag).id == image.id


def test_a_failed_build_says_what_and_what_to_do(tag: str) -> None:
    def context() -> io.BytesIO:
        return _context("FROM debian:bookworm-slim\nRUN exit 7\n")

    with pytest.raises(EngineError, match="cannot build the test image hachaos-test") as err:
        build_once(tag, context, {LABEL: "1"}, what="the test image", hint="fix the thing")
    assert err.value.hint == "fix the thing"
    with pytest.raises(docker.errors.ImageNotFound):
        docker.from_env().images.get(tag)
