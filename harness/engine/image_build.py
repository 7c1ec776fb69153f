"""Build an image hachaos owns on the engine once, unless it is already there."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO

import docker.errors

from harness.engine.client import client
from harness.errors import EngineError

_lock = threading.Lock()  # one build at a time: two runs' threads never build one tag twice


def build_once(
    tag: str,
    context: Callable[[], IO[bytes]],
    labels: dict[str, str],
    *,
    what: str,
    hint: str,
) -> str:
    """Build ``tag`` from the tar ``context()`` (made only when needed) unless the engine
    has it; returns ``tag``. EngineError naming ``what`` (e.g. "the helper image") and
    with ``hint`` when the build fails."""
    with _lock:
        c = client()
        try:
            c.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        try:
            c.images.build(
                fileobj=context(),
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                labels=labels,
            )
        except (docker.errors.BuildError, docker.errors.APIError) as exc:
            raise EngineError(f"cannot build {what} {tag}: {exc}", hint=hint) from exc
        return tag
