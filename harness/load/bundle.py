"""What a worker image needs to run this hachaos's load worker: the files, by destination.

A placed worker (a Swarm task, a pod) runs ``python3 -m harness.load.worker`` from an
image. It must run the same Locust, gevent and pyarrow as the master (Locust's protocol
between master and workers is only promised within a version) and the same hachaos load
code, so the image is made of exactly what this installation imports: a child process
imports the worker's entry point, and every distribution that provides a module it
loaded is copied whole (its RECORD), with hachaos's own ``harness`` package. The engine
builds the image from this (harness/engine/worker_image.py); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import LoadError

SITE = "site"  # destination folder of everything, on the image's PYTHONPATH
_PROBE = r"""
import importlib.metadata as md, json, sys
import harness.load.locust_entry  # noqa: F401  (what a worker imports)
by_module = md.packages_distributions()
names = sorted({d for m in list(sys.modules) for d in by_module.get(m.split(".")[0], [])})
print(json.dumps({"dists": names, "python": "%d.%d" % sys.version_info[:2]}))
"""
OWN = ("hachaos",)  # the editable install of this project: copied from the source tree


@dataclass(frozen=True)
class WorkerBundle:
    """The files of a worker image (destination -> source) and the Python they need."""

    files: tuple[tuple[str, Path], ...]
    python: str  # "3.11": compiled extensions are built for this minor version
    digest: str  # of every destination, size and content identity: the image's tag

    def describe(self) -> str:
        return f"{len(self.files)} files for Python {self.python}"


def _harness_files() -> list[tuple[str, Path]]:
    root = Path(__file__).resolve().parents[1]  # harness/
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            out.append((f"{SITE}/harness/{path.relative_to(root)}", path))
    return out


def _distribution_files(names: list[str]) -> list[tuple[str, Path]]:
    import importlib.metadata as md

    out: list[tuple[str, Path]] = []
    for name in names:
        if name in OWN:
            continue
        dist = md.distribution(name)
        for rel in dist.files or []:
            src = Path(str(dist.locate_file(rel))).resolve()
            if src.is_file() and "__pycache__" not in rel.parts and ".." not in rel.parts:
                out.append((f"{SITE}/{rel}", src))
    return out


@lru_cache(maxsize=1)
def worker_bundle() -> WorkerBundle:
    """The bundle of this installation (computed once per process: it imports Locust in a
    child, about a second)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True
        )
        found = json.loads(probe.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise LoadError(f"cannot list what a load worker imports: {detail}") from exc
    files = sorted(set(_distribution_files(found["dists"]) + _harness_files()))
    digest = hashlib.sha256(found["python"].encode())
    for dest, src in files:
        stat = src.stat()
        digest.update(f"{dest}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return WorkerBundle(tuple(files), found["python"], digest.hexdigest()[:12])
