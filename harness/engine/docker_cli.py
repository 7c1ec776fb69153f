"""The docker CLI, for what the Docker SDK cannot do (`docker compose`, `docker stack`).

Always an argv list (no shell) and a session of its own: a second Ctrl-C (SIGINT to
the terminal's process group) must not abort a `compose down` or `stack rm` that
cleanup is waiting for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from harness.errors import EngineError

INSTALL_HINT = "install the docker CLI (`make engine` runs scripts/ensure-docker)"


def tail(text: str, lines: int = 15) -> str:
    """The last ``lines`` lines of a command's output (where its error is)."""
    return "\n".join(text.strip().splitlines()[-lines:])


def run_docker(
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    install_hint: str = INSTALL_HINT,
    timeout_hint: str = "check the engine (`docker info`)",
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` with ``env`` added to this process's environment; the caller
    reads the return code. Raises EngineError when the CLI is missing or time runs out."""
    if shutil.which("docker") is None:
        raise EngineError("the docker CLI is not installed", hint=install_hint)
    try:
        return subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **env} if env else None,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as exc:
        shown = " ".join(a for a in args if not a.startswith("/"))[:120]
        raise EngineError(
            f"`docker {shown}` did not finish within {timeout:.0f} s", hint=timeout_hint
        ) from exc
