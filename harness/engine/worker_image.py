"""The load worker image, built locally from ``debian:bookworm-slim`` and this hachaos.

Debian's ``python3`` runs the files the load layer bundles (harness/load/bundle.py:
Locust, gevent, pyarrow... exactly as installed here, and hachaos's ``harness``): the
worker runs the master's versions, and nothing is downloaded but Debian's python3. The
tag is the bundle's digest, so a changed hachaos is a new image, never a stale one.
Every node that runs a worker needs the image: on a swarm of several machines, push it
to a registry the nodes pull from (and set ``image:``) or load it on each node
(``docker save | docker load``; scripts/swarm-node does this for its nodes).

The image holds the bundle compiled to bytecode (``compileall`` at build): a worker
that compiled Locust, gevent and pyarrow from source at every start had not joined
after 120 s on a host at load average 60, when it got about 1 CPU second per 45 s.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence
from pathlib import Path

from harness.engine.image_build import build_once

WORKER_LABEL = "io.hachaos.load-worker-image"
SITE = "/opt/hachaos/site"


def dockerfile(python: str) -> str:
    """The image's Dockerfile; the build fails clearly when Debian's Python is not ``python``."""
    return f"""\
FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends python3 ca-certificates \\
 && rm -rf /var/lib/apt/lists/*
RUN python3 -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \\
assert v == "{python}", "the image has Python " + v + ", the bundle needs {python}"'
COPY site {SITE}
RUN python3 -m compileall -q -j 0 {SITE}
ENV PYTHONPATH={SITE} PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
LABEL {WORKER_LABEL}=1
"""


def image_tag(digest: str) -> str:
    return f"hachaos-worker:{digest}"


def _context(files: Sequence[tuple[str, Path]], python: str) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile(python).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
        for dest, src in files:
            tar.add(str(src), arcname=dest, recursive=False)
    buf.seek(0)
    return buf


def ensure_worker_image(files: Sequence[tuple[str, Path]], python: str, digest: str) -> str:
    """Build the worker image on the engine unless it is there; returns its tag."""
    return build_once(
        image_tag(digest),
        lambda: _context(files, python),
        {WORKER_LABEL: "1"},
        what="the load worker image",
        hint="it needs debian:bookworm-slim on the engine and a reachable apt mirror; "
        "or give `load.workers.<engine>.image`",
    )
