"""What a Compose build reads, as one hash: the same stack from any folder gets one tag.

A build definition from ``docker compose config`` names absolute paths (its
context, maybe a Dockerfile or further contexts elsewhere). Hashing those paths
gave one image tag per checkout folder of the same stack. Here each path is
replaced by the digest of what the build reads there: the context's files as its
``.dockerignore`` leaves them (path, executable bit, content; symlinks by their
target), the Dockerfile's content; every other key (args, target, ...) is hashed
as given. Remote contexts (git or http URLs) are hashed by their URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docker.utils.build import exclude_paths

DIGEST_LEN = 12
_CHUNK = 1 << 20
_REMOTE = ("http://", "https://", "git://", "git@", "ssh://", "github.com/", "docker-image://")


def build_digest(build: Mapping[str, Any]) -> str:
    """The first 12 hex digits of the sha256 of everything the build reads."""
    spec = dict(build)
    context = str(spec.pop("context", "."))
    dockerfile = spec.pop("dockerfile", None)
    dockerfile_path = _dockerfile_path(context, dockerfile)
    spec["context"] = _source_digest(context, dockerfile_path)
    if dockerfile is not None or dockerfile_path is not None:
        spec["dockerfile"] = _file_digest(dockerfile_path) if dockerfile_path else dockerfile
    extra = spec.pop("additional_contexts", None)
    if isinstance(extra, Mapping):
        spec["additional_contexts"] = {k: _source_digest(str(v), None) for k, v in extra.items()}
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LEN]


def _is_remote(source: str) -> bool:
    return source.startswith(_REMOTE)


def _dockerfile_path(context: str, dockerfile: object) -> Path | None:
    if _is_remote(context):
        return None
    name = str(dockerfile) if dockerfile else "Dockerfile"
    path = Path(name) if os.path.isabs(name) else Path(context) / name
    return path if path.is_file() else None


def _source_digest(source: str, dockerfile: Path | None) -> str:
    """A context folder by its files, a remote one by its URL, a missing one as such."""
    if _is_remote(source):
        return "url:" + source
    root = Path(source)
    if not root.is_dir():
        return "missing"
    return "tree:" + tree_digest(root, dockerfile)


def _ignore_patterns(root: Path, dockerfile: Path | None) -> list[str]:
    """The .dockerignore that applies: ``<Dockerfile>.dockerignore`` first (BuildKit)."""
    candidates = [root / ".dockerignore"]
    if dockerfile is not None:
        candidates.insert(0, dockerfile.with_name(dockerfile.name + ".dockerignore"))
    for path in candidates:
        if path.is_file():
            lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
            return [line for line in lines if line and not line.startswith("#")]
    return []


def tree_digest(root: Path, dockerfile: Path | None = None) -> str:
    """sha256 of the files of ``root`` a build sends (relative paths, so not where it lies)."""
    inside = None
    if dockerfile is not None and dockerfile.resolve().is_relative_to(root.resolve()):
        inside = dockerfile.resolve().relative_to(root.resolve()).as_posix()
    included = exclude_paths(str(root), _ignore_patterns(root, dockerfile), dockerfile=inside)
    h = hashlib.sha256()
    for rel in sorted(included):
        path = root / rel
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            entry = f"L {rel} {os.readlink(path)}"
        elif stat.S_ISDIR(info.st_mode):
            entry = f"D {rel}"
        elif stat.S_ISREG(info.st_mode):
            executable = "x" if info.st_mode & 0o111 else "-"
            entry = f"F {rel} {executable} {_file_digest(path)}"
        else:
            continue  # sockets, fifos: not sent
        h.update(entry.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
