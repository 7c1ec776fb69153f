"""Stub commands on a private PATH: the fault script builders' tests run the real generated
shell scripts against them and read back what was called."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class StubPath:
    """A ``bin`` folder put first on PATH, and a log the stubs append their calls to."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.log = folder / "calls"

    def stub(self, name: str, body: str) -> None:
        """An executable ``name`` in the stub folder running the shell ``body``."""
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def sh(self, script: str) -> int:
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        return subprocess.run(["sh", "-c", script], env=env, timeout=10, check=False).returncode

    def calls(self) -> list[str]:
        """The calls logged since the last read (the log is emptied)."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return lines
