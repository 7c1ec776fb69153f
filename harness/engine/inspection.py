"""Read-only engine look-ups for the security audit: image configs and a project's containers."""

from __future__ import annotations

from typing import Any

import docker.errors

from harness.engine.client import client, translated
from harness.engine.containers import NUMBER, SERVICE, _project_containers, inspect
from harness.errors import EngineError


def image_config(image: str) -> dict[str, Any] | None:
    """The ``Config`` of a local image (USER, HEALTHCHECK …), or None when it is not here."""
    try:
        doc = client().api.inspect_image(image)
    except docker.errors.ImageNotFound:
        return None
    except (docker.errors.APIError, docker.errors.DockerException) as exc:
        raise EngineError(f"inspect image {image}: {exc}") from exc
    return dict(doc.get("Config") or {})


def project_inspects(project: str) -> dict[str, list[dict[str, Any]]]:
    """Inspect documents of the project's running containers, per service, by replica number."""
    out: dict[str, list[dict[str, Any]]] = {}
    with translated(f"list containers of project {project}"):
        found = _project_containers(project)
    for c in sorted(found, key=lambda c: int(c.labels.get(NUMBER, "0") or 0)):
        doc = inspect(str(c.id))
        if (doc.get("State") or {}).get("Running"):
            out.setdefault(c.labels.get(SERVICE, ""), []).append(doc)
    return out
