"""The Compose adapter of the engine port: `docker compose` on one engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.engine import containers
from harness.engine.compose.project import (
    ComposeProject,
    compose_version,
    engine_version,
    project_objects,
    remove_project_objects,
    remove_stack,
)
from harness.engine.compose.stack import ComposeFileStack
from harness.engine.containers import PROJECT, Target
from harness.engine.port import EmitFn
from harness.engine.registry import LeftStack
from harness.engine.stats import DockerStats, DockerStatsAbility, compose_identity
from harness.errors import EngineError


@dataclass(frozen=True)
class ComposeEngine(DockerStatsAbility):
    """A compose project deployed by hachaos; wraps :class:`ComposeProject`."""

    stack: ComposeProject
    kind: str = "compose"

    @classmethod
    def create(
        cls, stack: ComposeFileStack, file: Path, project: str, run_id: str
    ) -> ComposeEngine:
        """The port for one run of ``stack`` (its compose file resolved to ``file``)."""
        return cls(ComposeProject(file, project))

    @property
    def project(self) -> str:
        return self.stack.project

    @property
    def file(self) -> Path:
        return self.stack.file

    def with_env(self, **env: str) -> ComposeEngine:
        return ComposeEngine(dataclasses.replace(self.stack, env={**self.stack.env, **env}))

    def with_overrides(self, files: Sequence[Path]) -> ComposeEngine:
        overrides = (*self.stack.overrides, *files)
        return ComposeEngine(dataclasses.replace(self.stack, overrides=overrides))

    def with_replicas(self, service: str, count: int) -> ComposeEngine:
        scale = {**self.stack.scale, service: count}
        return ComposeEngine(dataclasses.replace(self.stack, scale=scale))

    def existing(self) -> str | None:
        found = project_objects(self.project)
        return None if found.empty() else found.describe()

    def deploy(self, *, ready_timeout: float) -> None:
        self.stack.up(wait_timeout=ready_timeout)

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        return self.stack.published_port(service, port)

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Target]:
        return containers.resolve(self.project, service, replicas)

    def teardown(self) -> None:
        self.stack.down()

    def sweep(self) -> str:
        return remove_project_objects(self.project).describe()

    def environment(self) -> dict[str, Any]:
        try:
            engine, images = engine_version(), self.stack.image_ids()
        except EngineError:
            engine, images = "unknown", {}
        return {
            "engine": "compose",
            "engine_version": engine,
            "compose_version": compose_version(),
            "images": images,
        }

    def journal_record(self) -> dict[str, Any]:
        return {"engine": "compose", "compose": str(self.file)}

    def observe(self, emit: EmitFn) -> None:
        return None  # compose has no replica controller of its own to watch

    def stop_observing(self) -> None:
        return None

    def finish(self) -> list[str]:
        return []

    # ContainerStats (harness/engine/stats.py): the project's containers
    def _stats(self) -> DockerStats:
        return DockerStats(f"{PROJECT}={self.project}", compose_identity(self.project))

    def audited_project(self) -> tuple[Path, str]:
        return self.file, self.project


def remove_left(left: LeftStack) -> list[str]:
    """Remove a dead run's compose project: `compose down` when its file is still there,
    then by label."""
    compose = str(left.details.get("compose") or "")
    gone = remove_stack(left.project, Path(compose) if compose else None)
    return [] if gone.empty() else [f"removed stack {left.project}: {gone.describe()}"]


def removal_hint(project: str, details: Mapping[str, object]) -> str:
    """How a user removes the project by hand."""
    return f"docker compose -p {project} down -v"
