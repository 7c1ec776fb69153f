"""Naming of a run's folder and compose project, and atomic JSON writes into it."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.durable import replace_durably


def utc_stamp(now: datetime | None = None) -> str:
    """``20261127T153000Z``: sortable, filesystem-safe UTC time."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def new_run_dir(root: Path, scenario: str, now: datetime | None = None) -> Path:
    """Create ``root/<scenario>/<UTC timestamp>/``, suffixed ``-2``, ``-3`` … on a clash."""
    stamp = utc_stamp(now)
    base = root / scenario / stamp
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{stamp}-{n}")
    path.mkdir(parents=True)
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
