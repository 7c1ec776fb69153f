"""Facts about where a run happened, for the report's environment table."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from harness import __version__
from harness.engine.port import StackEngine


def git_commit(cwd: Path) -> str | None:
    """HEAD of the git checkout around ``cwd``, if any."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            start_new_session=True,  # terminal signals go to hachaos alone
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def collect(engine: StackEngine, scenario_file: Path) -> dict[str, Any]:
    """Versions, images and host facts; engine facts degrade to "unknown" on error."""
    return {
        "hachaos": __version__,
        "git_commit": git_commit(scenario_file.parent),
        **engine.environment(),
        "host_cores": os.cpu_count() or 0,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
