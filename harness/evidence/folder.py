"""Naming of a run's folder and compose project, and atomic JSON writes into it."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.evidence.durable import replace_durably

_MAX_SAME_SECOND = 1000


def utc_stamp(now: datetime | None = None) -> str:
    """``20261127T153000Z``: sortable, filesystem-safe UTC time."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def new_run_id(project: str, now: datetime | None = None) -> str:
    """``<UTC stamp>-<random>-<project>``: unique even for two runs of a project in one second.

    The random part comes early, so that a prefix of the id (helper names use
    the first 24 characters) is unique too.
    """
    return f"{utc_stamp(now)}-{secrets.token_hex(3)}-{project}"


def new_run_dir(root: Path, scenario: str, now: datetime | None = None) -> Path:
    """Create ``root/<scenario>/<UTC timestamp>/``, suffixed ``-2``, ``-3`` … on a clash.

    Each name is claimed with one ``mkdir``, which fails when the folder exists:
    two processes starting in the same second never share a folder.
    """
    stamp = utc_stamp(now)
    parent = root / scenario
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, _MAX_SAME_SECOND + 1):
        path = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    # Only reachable with over a thousand runs in one second: fall back to randomness.
    path = parent / f"{stamp}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def project_name(scenario_name: str, *overrides: str | None) -> str:
    """The first override given, else ``hachaos-<scenario>-<random>`` so runs never collide."""
    for value in overrides:
        if value:
            return value
    slug = "".join(c if c.isalnum() else "-" for c in scenario_name.lower()).strip("-")
    return f"hachaos-{slug[:30]}-{secrets.token_hex(3)}"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and rename, so readers never see half a file
    (fsynced before and after the rename, so a host crash does not leave an empty one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    replace_durably(tmp, path)
