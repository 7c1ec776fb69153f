"""What the multi-node tests share: a node engine's socket, bounded commands."""

from __future__ import annotations

import os
import subprocess


def sock(n: int) -> str:
    """The Docker socket of node ``n`` (scripts/swarm-node)."""
    return f"unix:///run/hachaos-node-{n}/docker.sock"


def run(args: list[str], timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command to its end (bounded), output captured, ``env`` added to ours."""
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **env},
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have succeeded."""
    assert proc.returncode == 0, f"{proc.args}: rc {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc.stdout
