"""Short-lived helper containers that do the privileged work of faults.

Network faults run iptables/tc inside the target's network namespace from a
helper that shares it (``--network container:<id> --cap-add NET_ADMIN``), so
they work with remote engines and Docker Desktop too. Crash runs a helper with
``--pid host`` to signal the main process as the kernel would see a crash.

The helper image is built locally from ``debian:bookworm-slim`` on first use;
no registry is involved. Every helper carries ``io.hachaos.helper=1`` so target
resolution never picks one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tarfile
import time
from pathlib import Path
from typing import Any

import docker.errors

from harness.engine.client import client, translated
from harness.engine.image_build import build_once
from harness.errors import EngineError, FaultError, TargetNotFound

HELPER_LABEL = "io.hachaos.helper"
RUN_LABEL = "io.hachaos.run"
PROJECT_LABEL = "io.hachaos.project"
PROXY_PATH = "/opt/hachaos/faultproxy.py"  # the fault proxy inside the helper image

_DOCKERFILE = f"""\
FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends iptables iproute2 procps coreutils \\
    python3 python3-uvloop \\
 && rm -rf /var/lib/apt/lists/*
COPY faultproxy.py {PROXY_PATH}
LABEL {HELPER_LABEL}=1
"""
_PROXY_SOURCE = (Path(__file__).parent.parent / "faults" / "proxy" / "faultproxy.py").read_bytes()
# Tagged by content: a changed Dockerfile or proxy is a new image, never a stale one.
HELPER_IMAGE = (
    "hachaos-helper:" + hashlib.sha256(_DOCKERFILE.encode() + _PROXY_SOURCE).hexdigest()[:12]
)


def _build_context() -> io.BytesIO:
    """The image's build context: the Dockerfile and the proxy program."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", _DOCKERFILE.encode()), ("faultproxy.py", _PROXY_SOURCE)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def ensure_image() -> str:
    """Build the helper image unless it exists; returns its tag."""
    return build_once(
        HELPER_IMAGE,
        _build_context,
        {HELPER_LABEL: "1"},
        what="the helper image",
        hint="it needs debian:bookworm-slim locally and a reachable apt mirror",
    )


def labels(run_id: str, project: str) -> dict[str, str]:
    """Labels of a helper that belongs to a run."""
    return {HELPER_LABEL: "1", RUN_LABEL: run_id, PROJECT_LABEL: project}


# Every helper drops every capability and may never gain one (setuid binaries,
# file caps); callers add back only the one they need: NET_ADMIN for iptables
# and tc (the image's iptables is the nft backend, which needs no NET_RAW;
# iptables-legacy would), KILL for crash.
LEAST_PRIVILEGE: dict[str, list[str]] = {
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
}


def _start(c: docker.DockerClient, command: list[str], kwargs: dict[str, Any]) -> Any:
    """Create and start a helper; a helper that cannot start is removed at once.

    ``containers.run`` creates, then starts, and leaves the created container behind
    when the start fails (e.g. the target whose netns it joins was just killed): a
    helper that would outlive the run.
    """
    container = c.containers.create(HELPER_IMAGE, command, **kwargs)
    try:
        container.start()
    except BaseException:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)
        raise
    return container


def start_netns_helper(
    target_id: str,
    name: str,
    script: str,
    *,
    run_id: str,
    project: str,
    caps: tuple[str, ...] = ("NET_ADMIN",),
) -> str:
    """Start a detached helper in the target's netns running ``sh -c script``; returns its id."""
    with translated(f"start network helper for {target_id[:12]}"):
        container = _start(
            client(),
            ["sh", "-c", script],
            {
                "name": name,
                "auto_remove": True,
                "network_mode": f"container:{target_id}",
                "cap_add": list(caps),
                "labels": labels(run_id, project),
                **LEAST_PRIVILEGE,
            },
        )
    return str(container.id)


def wait_for_line(helper_id: str, marker: str, timeout: float) -> str:
    """Follow a helper's output until a line starts with ``marker``; returns that line.

    Raises FaultError with the helper's output when it exits first or time runs out.
    """
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    try:
        stream = client().api.logs(helper_id, stream=True, follow=True)
        buf = b""
        for chunk in stream:
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = str(raw.decode(errors="replace")).strip()
                seen.append(line)
                if line.startswith(marker):
                    return line
            if time.monotonic() > deadline:
                break
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        raise EngineError(f"cannot read helper output: {exc}") from exc
    tail = " | ".join(seen[-5:]) or "no output"
    raise FaultError(f"helper {helper_id[:12]} did not report {marker}: {tail}")


def exec_in(container_id: str, script: str, *, timeout: float = 20.0) -> tuple[int, str]:
    """Run ``sh -c script`` inside a running container; returns (exit code, output)."""
    cmd = ["timeout", str(int(timeout)), "sh", "-c", script]
    with translated(f"exec in {container_id[:12]}"):
        result = client().containers.get(container_id).exec_run(cmd, demux=False)
    output = result.output.decode(errors="replace") if result.output else ""
    return int(result.exit_code if result.exit_code is not None else -1), output


def stop_helper(helper_id: str, *, timeout: float = 10.0) -> None:
    """SIGTERM a helper (its trap removes its rules) and wait until it is gone."""
    c = client()
    try:
        container = c.containers.get(helper_id)
        container.stop(timeout=int(timeout))
        container.wait(timeout=timeout + 5)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        if exc.response is not None and exc.response.status_code in (404, 409):
            return
        raise EngineError(f"cannot stop helper {helper_id[:12]}: {exc}") from exc
    except Exception as exc:  # requests timeout from wait()
        raise EngineError(f"helper {helper_id[:12]} did not exit: {exc}") from exc


def is_running(container_id: str) -> bool:
    """Whether a container exists and runs."""
    try:
        container = client().containers.get(container_id)
    except docker.errors.NotFound:
        return False
    return bool(container.status == "running")


def run_once(
    command: list[str],
    *,
    run_id: str,
    project: str,
    network_mode: str = "none",
    pid_mode: str | None = None,
    cap_add: list[str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, str]:
    """Run a throwaway helper to completion; returns (exit code, output)."""
    kwargs: dict[str, Any] = {
        "network_mode": network_mode,
        "labels": labels(run_id, project),
        **LEAST_PRIVILEGE,
    }
    if pid_mode:
        kwargs["pid_mode"] = pid_mode
    if cap_add:
        kwargs["cap_add"] = cap_add
    c = client()
    with translated("run helper"):
        container = _start(c, command, kwargs)
    try:
        status = container.wait(timeout=timeout)
        output = container.logs().decode(errors="replace")
        return int(status.get("StatusCode", -1)), output
    except docker.errors.NotFound as exc:
        raise TargetNotFound(f"helper vanished: {exc}") from exc
    except Exception as exc:
        raise EngineError(f"helper did not finish within {timeout:.0f}s: {exc}") from exc
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


_netem: dict[str, bool] = {}


def netem_available(*, run_id: str = "preflight", project: str = "hachaos") -> bool:
    """Whether the engine's kernel has sch_netem (checked once per process, in a sandbox netns)."""
    if "ok" not in _netem:
        ensure_image()
        code, _ = run_once(
            ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
            run_id=run_id,
            project=project,
            cap_add=["NET_ADMIN"],
        )
        _netem["ok"] = code == 0
    return _netem["ok"]


def list_helpers(*, run_id: str | None = None, project: str | None = None) -> list[dict[str, str]]:
    """Helper containers (any state) as dicts of id, name, run, project."""
    filters = [f"{HELPER_LABEL}=1"]
    if run_id:
        filters.append(f"{RUN_LABEL}={run_id}")
    if project:
        filters.append(f"{PROJECT_LABEL}={project}")
    with translated("list helpers"):
        # ignore_removed: a helper that exits (auto_remove) between the list and
        # the SDK's per-container inspect is simply not listed.
        found = client().containers.list(all=True, filters={"label": filters}, ignore_removed=True)
    return [
        {
            "id": str(h.id),
            "name": str(h.name),
            "run": h.labels.get(RUN_LABEL, ""),
            "project": h.labels.get(PROJECT_LABEL, ""),
            "state": str(h.status),
        }
        for h in found
    ]


def remove_helper(helper_id: str) -> None:
    """Stop a helper gracefully (so it cleans up), then force-remove it."""
    stop_helper(helper_id, timeout=5)
    try:
        client().containers.get(helper_id).remove(force=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        if exc.response is not None and exc.response.status_code == 409:
            return  # removal already in progress (auto_remove)
        raise EngineError(f"cannot remove helper {helper_id[:12]}: {exc}") from exc
