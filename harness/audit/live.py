"""The audit's I/O: read the compose file and ask the engine about images and containers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.audit.models import AuditResult
from harness.audit.review import review
from harness.engine import inspection
from harness.engine.compose.config import read_compose_config
from harness.errors import EngineError, HarnessError, ScenarioError


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it (SARIF wants that)."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _images(raw: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Image configs of the services, best effort: without an engine the audit stays static."""
    names = {
        str(s.get("image")) for s in (raw.get("services") or {}).values() if s and s.get("image")
    }
    out: dict[str, dict[str, Any] | None] = {}
    try:
        for name in sorted(names):
            out[name] = inspection.image_config(name)
    except EngineError:
        return {}
    return out


def audit_compose(
    compose_file: Path, *, live_project: str | None = None, use_images: bool = True
) -> AuditResult:
    """Audit a compose file; with ``live_project``, the running containers of that project win.

    Raises ScenarioError for a bad file or a live project with no running container.
    """
    if not compose_file.is_file():
        raise ScenarioError(
            f"compose file {compose_file} does not exist", hint="pass the path of a compose file"
        )
    config = read_compose_config(compose_file, live_project)
    text = compose_file.read_text(encoding="utf-8", errors="replace")
    images = _images(config.raw) if use_images else {}
    live = None
    if live_project:
        live = inspection.project_inspects(live_project)
        if not live:
            raise ScenarioError(
                f"compose project {live_project!r} has no running container",
                hint="deploy it first (`docker compose -p NAME up -d`) or drop --live",
            )
    return review(
        config.raw,
        text,
        display_path(compose_file),
        images=images,
        live=live,
        project=live_project or "",
    )


def run_audit(compose_file: Path, project: str) -> dict[str, Any]:
    """The live audit of a run's deployed stack, for its report; never fails the run."""
    try:
        return audit_compose(compose_file, live_project=project).to_dict()
    except HarnessError as exc:
        return {"error": exc.message}
