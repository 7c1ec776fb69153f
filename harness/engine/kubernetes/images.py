"""Local Docker images into the local cluster's containerd (there is no registry).

Only for the project's own cluster (scripts/ensure-kube): its containerd listens on
its own socket, apart from Docker's. ``docker save <image> | ctr -n k8s.io images
import -``; pods then use the image with ``imagePullPolicy: Never`` or ``IfNotPresent``.
Another cluster pulls its images from wherever its nodes can.
"""

from __future__ import annotations

import re
import subprocess
import threading

from harness.engine.kubernetes.cluster import LOCAL_CONTAINERD
from harness.errors import EngineError

IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$")
IMPORT_TIMEOUT = 300.0
_lock = threading.Lock()


def _ctr(*args: str) -> list[str]:
    return ["ctr", "--address", str(LOCAL_CONTAINERD), "-n", "k8s.io", *args]


def _normal(image: str) -> str:
    """containerd's full name of a Docker short name (``a/b:t`` -> ``docker.io/a/b:t``)."""
    name = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else f"{image}:latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." in first or ":" in first or first == "localhost":
        return name
    return f"docker.io/{name}"


def present() -> set[str]:
    """The images the cluster's containerd has."""
    try:
        done = subprocess.run(
            _ctr("images", "ls", "-q"), capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(f"cannot list the local cluster's images: {exc}") from exc
    if done.returncode != 0:
        raise EngineError(
            f"cannot list the local cluster's images: {done.stderr.strip()[-300:]}",
            hint="is the local cluster up? `make kube`",
        )
    return set(done.stdout.split())


def _docker_has(image: str) -> bool:
    done = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, timeout=60, check=False
    )
    return done.returncode == 0


def load_local(wanted: list[str]) -> list[str]:
    """Import each of ``wanted`` that Docker has and the cluster lacks; returns those loaded.

    An image Docker does not have is left to the cluster (it may pull it)."""
    loaded = []
    with _lock:
        have = present()
        for image in wanted:
            if not IMAGE_RE.match(image):
                raise EngineError(f"not an image name: {image[:80]!r}")
            if _normal(image) in have or image in have or not _docker_has(image):
                continue
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            try:
                done = subprocess.run(
                    _ctr("images", "import", "-"),
                    stdin=save.stdout,
                    capture_output=True,
                    text=True,
                    timeout=IMPORT_TIMEOUT,
                    check=False,
                )
            finally:
                if save.stdout is not None:
                    save.stdout.close()
                save.wait(timeout=IMPORT_TIMEOUT)
            if done.returncode != 0 or save.returncode != 0:
                raise EngineError(
                    f"cannot put image {image} into the local cluster: "
                    f"{done.stderr.strip()[-300:]}",
                    hint=f"try by hand: scripts/ensure-kube load {image}",
                )
            loaded.append(image)
    return loaded
