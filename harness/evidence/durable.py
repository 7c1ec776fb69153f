"""Crash-safe file replacement, shared by every layer that writes run evidence.

``os.replace`` alone is atomic but not durable: after a power loss or a kernel
crash the new name may point at an empty or half-written file, because the
data and the rename reach the disk in any order. Flushing the file before the
rename and the folder after it makes the result either the old file or the
whole new one.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's) data and metadata to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: Path, dest: Path) -> None:
    """Rename the fully written ``tmp`` over ``dest``: fsync(tmp), rename, fsync(folder)."""
    fsync_path(tmp)
    os.replace(tmp, dest)
    fsync_path(dest.parent)
