"""The build images hachaos names (``hachaos-build/<service>:<content hash>``): record, prune.

Every content of a build-only service gets its own tag, so edits and nightly
clones would pile tags up forever. After each build the older tags of the
services it built are pruned, and ``hachaos cleanup --images`` prunes all of
them: per repository the newest ``keep`` (by when hachaos last built them) stay.
Only images hachaos built are ever touched (repository ``hachaos-build/...`` and
Compose's project label ``hachaos-build``); never one a container uses (running
or stopped), and never one built in the last ``grace_s`` (a run between its build
and its ``up`` has no container yet).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from harness.engine.client import client, translated
from harness.engine.registry import IMAGES_KEPT
from harness.errors import EngineError
from harness.evidence.journal import hachaos_state

BUILD_PROJECT = "hachaos-build"  # the one compose project every build runs under
PROJECT_LABEL = "com.docker.compose.project"
KEEP = IMAGES_KEPT  # tags kept per repository
GRACE_S = 3600.0  # never prune a tag built this recently: a run may be about to use it
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildImage:
    """One tag of a build image hachaos made."""

    tag: str  # hachaos-build/web:0123456789ab
    image_id: str
    last_built: float  # epoch s: hachaos's record of its last build, else the image's creation

    @property
    def repository(self) -> str:
        return self.tag.rpartition(":")[0]


def stale_builds(
    images: Sequence[BuildImage],
    in_use: set[str],
    *,
    now: float,
    keep: int = KEEP,
    grace_s: float = GRACE_S,
    repositories: set[str] | None = None,
) -> list[BuildImage]:
    """The tags to remove: per repository all but the newest ``keep``, never one whose image
    a container uses or that was built within ``grace_s``; only in ``repositories`` if given."""
    by_repo: dict[str, list[BuildImage]] = {}
    for image in images:
        if repositories is None or image.repository in repositories:
            by_repo.setdefault(image.repository, []).append(image)
    stale = []
    for repo in sorted(by_repo):
        newest_first = sorted(by_repo[repo], key=lambda i: (-i.last_built, i.tag))
        for image in newest_first[keep:]:
            if image.image_id in in_use or now - image.last_built < grace_s:
                continue
            stale.append(image)
    return stale


def _records() -> Path:
    return hachaos_state() / "builds"


def _record_name(tag: str) -> str:
    return tag.removeprefix(BUILD_PROJECT + "/").replace(":", "@")


def record_builds(tags: Iterable[str], now: float | None = None) -> None:
    """Note that these tags were (re)built now: their recency, which the image's creation
    time does not give (a rebuild from the layer cache keeps the old one)."""
    folder = _records()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.time() if now is None else now
    for tag in tags:
        marker = folder / _record_name(tag)
        marker.touch()
        os.utime(marker, (stamp, stamp))


def build_images() -> list[BuildImage]:
    """Every tag of every image hachaos built, on the engine."""
    folder = _records()
    out = []
    with translated("listing hachaos build images"):
        api = client().api
        for image in api.images(filters={"label": f"{PROJECT_LABEL}={BUILD_PROJECT}"}):
            for tag in image.get("RepoTags") or []:
                if not tag.startswith(BUILD_PROJECT + "/"):
                    continue
                marker = folder / _record_name(tag)
                built = marker.stat().st_mtime if marker.exists() else float(image["Created"])
                out.append(BuildImage(tag, str(image["Id"]), built))
    return out


def images_in_use() -> set[str]:
    """Image ids of every container on the engine, running or not."""
    with translated("listing containers"):
        return {str(c["ImageID"]) for c in client().api.containers(all=True)}


def prune_builds(
    *,
    keep: int = KEEP,
    grace_s: float = GRACE_S,
    repositories: set[str] | None = None,
    now: float | None = None,
) -> list[str]:
    """Remove the stale build tags (see :func:`stale_builds`); returns the tags removed.

    A tag is removed without force: an image a container took meanwhile stays.
    """
    stale = stale_builds(
        build_images(),
        images_in_use(),
        now=time.time() if now is None else now,
        keep=keep,
        grace_s=grace_s,
        repositories=repositories,
    )
    removed = []
    for image in stale:
        try:
            client().images.remove(image.tag)  # no force: an image in use stays
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                continue  # a container took it meanwhile
            raise EngineError(
                f"removing build image {image.tag}: {exc.explanation or exc}"
            ) from exc
        (_records() / _record_name(image.tag)).unlink(missing_ok=True)
        removed.append(image.tag)
    return removed


def prune_stale_builds(keep: int) -> list[str]:
    """``hachaos cleanup --images``: every stale build tag, ``keep`` newest per service."""
    return prune_builds(keep=keep)


def prune_after_build(tags: Iterable[str]) -> None:
    """After a build: record it, then prune older tags of the same services; never raises
    (a failed prune leaves a tag more, never a failed run)."""
    tags = list(tags)
    try:
        record_builds(tags)
        removed = prune_builds(repositories={t.rpartition(":")[0] for t in tags})
    except (EngineError, OSError) as exc:
        _log.warning("could not prune older build images: %s", exc)
        return
    if removed:
        _log.info("pruned older build images: %s", ", ".join(removed))
