"""Deploy and tear down a Compose project through the `docker compose` CLI (v2)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from harness.engine.client import client, translated
from harness.engine.compose.build_hash import build_digest
from harness.engine.compose.images import BUILD_PROJECT, PROJECT_LABEL, prune_after_build
from harness.engine.docker_cli import run_docker, tail
from harness.engine.processes import stop_processes
from harness.errors import EngineError

_COMPOSE_HINT = "install the Compose v2 plugin (`make engine` runs scripts/ensure-docker)"
# Images are always built under one project name, BUILD_PROJECT (the one `hachaos
# build` uses). Compose stamps the project into every image it builds as a label, so
# a build under each run's random project gives a new image id per run and leaves
# the previous one dangling; under a fixed name the layer cache yields the very
# same image id again.


@dataclass(frozen=True)
class ComposeProject:
    """One compose file deployed under one project name."""

    file: Path
    project: str
    env: Mapping[str, str] = field(default_factory=dict)  # extra variables for interpolation
    overrides: tuple[Path, ...] = ()  # extra compose files layered over ``file``
    scale: Mapping[str, int] = field(default_factory=dict)  # `up --scale service=N`

    def _run(
        self, *args: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        files = [arg for f in (self.file, *self.overrides) for arg in ("-f", str(f))]
        proc = run_docker(
            ["compose", *files, "-p", self.project, *args],
            timeout=timeout,
            env=self.env,
            install_hint=_COMPOSE_HINT,
            timeout_hint="check the engine (`docker info`) and the stack's health checks",
        )
        if check and proc.returncode != 0:
            raise EngineError(
                f"`docker compose {' '.join(args)}` failed for project {self.project}:\n"
                f"{tail(proc.stderr or proc.stdout)}",
                hint=f"inspect with `docker compose -p {self.project} logs`",
            )
        return proc

    def build(self, *, timeout: float = 900.0) -> None:
        """Build the stack's images under stable names (cached layers make a rebuild a no-op)."""
        with self._stable_images() as (stack, names):
            stack._build(timeout, names)

    def _build(self, timeout: float, names: Mapping[str, str]) -> None:
        """Build under BUILD_PROJECT, then prune older tags of the services built."""
        dataclasses.replace(self, project=BUILD_PROJECT)._run("build", "--quiet", timeout=timeout)
        prune_after_build(names.values())

    @contextlib.contextmanager
    def _stable_images(self) -> Iterator[tuple[ComposeProject, dict[str, str]]]:
        """This project with an override naming every build-only service's image.

        Without it Compose names such an image ``<project>-<service>``, i.e. one
        new image per run. Building every run under a stable name (instead of
        removing the run's images at teardown) is the robust choice: a `kill -9`
        cannot leave an image behind, images that scenarios share keep their
        layer cache, and nothing has to decide which images are "the run's".
        The build still runs each time, so the name never serves stale code.
        """
        proc = self._run("config", "--format", "json", timeout=60.0)
        try:
            images = stable_image_names(json.loads(proc.stdout))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise EngineError(f"`docker compose config` printed no usable JSON: {exc}") from exc
        if not images:
            yield self, images
            return
        with tempfile.TemporaryDirectory(prefix="hachaos-images-") as folder:
            path = Path(folder) / "images.json"  # JSON is YAML, as Compose reads it
            path.write_text(json.dumps({"services": {s: {"image": i} for s, i in images.items()}}))
            yield dataclasses.replace(self, overrides=(*self.overrides, path)), images

    def up(self, *, wait_timeout: float, build: bool = True) -> None:
        """Start the stack and wait until every service is running and healthy.

        ``build``: build the images first, under stable names (see :meth:`build`).
        """
        args = ["up", "--detach", "--wait", "--wait-timeout", str(max(1, int(wait_timeout)))]
        args += [arg for svc, n in sorted(self.scale.items()) for arg in ("--scale", f"{svc}={n}")]
        try:
            if not build:
                self._run(*args, timeout=wait_timeout + 600.0)
                return
            with self._stable_images() as (stack, names):
                stack._build(900.0, names)
                stack._run(*args[:1], "--no-build", *args[1:], timeout=wait_timeout + 600.0)
        except EngineError as exc:
            raise EngineError(
                f"deploying {self.file} failed:\n{exc.message}",
                hint=(
                    f"run `docker compose -f {self.file} -p {self.project} up` by hand to see "
                    "why a service is not healthy; raise stack.ready_timeout if it is only slow"
                ),
            ) from exc

    def down(self, *, timeout: float = 120.0) -> None:
        """Remove the stack's containers, networks and volumes (only for stacks hachaos created)."""
        self._run("down", "--volumes", "--remove-orphans", "--timeout", "3", timeout=timeout)

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        """Host address and port that ``service:port`` is published on."""
        proc = self._run("port", service, str(port), timeout=30.0, check=False)
        text = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
        host, _, host_port = text.rpartition(":")
        if proc.returncode != 0 or not host_port.isdigit():
            raise EngineError(
                f"service {service!r} does not publish container port {port}",
                hint=f'add `ports: ["127.0.0.1::{port}"]` to {service} in {self.file}',
            )
        return (host.strip("[]") or "127.0.0.1", int(host_port))

    def image_ids(self) -> dict[str, str]:
        """Image id per service of the project's running containers."""
        with translated(f"listing containers of {self.project}"):
            containers = client().containers.list(
                all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"}, ignore_removed=True
            )
            return {
                c.labels.get("com.docker.compose.service", c.name): c.attrs.get("Image", "")
                for c in containers
            }


def stable_image_names(raw: Mapping[str, Any]) -> dict[str, str]:
    """A stable image name per build-only service of a ``compose config`` document.

    ``hachaos-build/<service>:<tag>``, the tag a hash of what the build reads (its
    context's files as .dockerignore leaves them, its Dockerfile, args, target...:
    engine/compose/build_hash.py), never of where the stack lies: the same stack
    from five checkout folders gets one name, and every run of it reuses it. Each
    run still builds (a no-op from the layer cache), so a name never serves stale
    code; the tags of older contents are pruned (engine/compose/images.py).
    """
    names: dict[str, str] = {}
    for service, svc in (raw.get("services") or {}).items():
        if not isinstance(svc, Mapping) or not svc.get("build") or svc.get("image"):
            continue
        build = svc["build"]
        digest = build_digest(build if isinstance(build, Mapping) else {"context": build})
        names[service] = f"{BUILD_PROJECT}/{build_repository(service)}:{digest}"
    return names


def build_repository(service: str) -> str:
    """The repository part of a service's build image name: a valid, lower-case slug."""
    return re.sub(r"[^a-z0-9]+", "-", service.lower()).strip("-") or "service"


@dataclass(frozen=True)
class ProjectObjects:
    """Names of the containers, networks and volumes labelled with one compose project."""

    containers: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()

    def empty(self) -> bool:
        """Whether nothing of the project exists."""
        return not (self.containers or self.networks or self.volumes)

    def describe(self) -> str:
        """``2 containers (a, b), 1 volume (v)``."""
        parts = []
        for kind, names in (
            ("container", self.containers),
            ("network", self.networks),
            ("volume", self.volumes),
        ):
            if names:
                plural = "s" if len(names) > 1 else ""
                parts.append(f"{len(names)} {kind}{plural} ({', '.join(sorted(names))})")
        return ", ".join(parts) or "nothing"


def _label_filter(project: str) -> dict[str, str]:
    return {"label": f"{PROJECT_LABEL}={project}"}


def _listed(project: str) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of the project's containers, networks and volumes: list calls, no inspect."""
    api = client().api
    flt = _label_filter(project)
    with translated(f"list objects of compose project {project}"):
        found = api.containers(all=True, filters=flt)
        nets = api.networks(filters=flt)
        vols = api.volumes(filters=flt).get("Volumes") or []

    # Labels are re-checked here: the filter is the engine's, the guarantee is ours.
    def ours(obj: dict[str, Any]) -> bool:
        return bool((obj.get("Labels") or {}).get(PROJECT_LABEL) == project)

    return {
        "containers": [
            (c["Id"], (c.get("Names") or [c["Id"]])[0].lstrip("/")) for c in found if ours(c)
        ],
        "networks": [(n["Id"], n["Name"]) for n in nets if ours(n)],
        "volumes": [(v["Name"], v["Name"]) for v in vols if ours(v)],
    }


def project_objects(project: str) -> ProjectObjects:
    """What exists of a compose project, found by its label."""
    found = _listed(project)
    return ProjectObjects(**{kind: tuple(n for _, n in objs) for kind, objs in found.items()})


def _gone_or_going(exc: docker.errors.APIError) -> bool:
    """404 (already gone) or 409 (removal already in progress)."""
    return exc.response is not None and exc.response.status_code in (404, 409)


def remove_project_objects(project: str) -> ProjectObjects:
    """Force-remove every container, network and volume labelled with ``project``.

    For stacks hachaos created only. Works without the compose file (a dead
    run's may be gone). Objects that vanish meanwhile are fine; returns what
    was there. Raises EngineError naming whatever is still left afterwards.
    """
    found = _listed(project)
    api = client().api
    errors: list[str] = []

    def attempt(what: str, call: Any, *args: Any, **kwargs: Any) -> None:
        try:
            with translated(what):  # e.g. the engine went away: EngineError, not requests'
                try:
                    call(*args, **kwargs)
                except docker.errors.APIError as exc:
                    if _gone_or_going(exc):
                        return
                    raise
        except EngineError as exc:
            errors.append(exc.message)

    # Containers first: a network or volume in use cannot go.
    for cid, name in found["containers"]:
        attempt(f"container {name}", api.remove_container, cid, force=True, v=True)
    for nid, name in found["networks"]:
        attempt(f"network {name}", api.remove_network, nid)
    for vol, _ in found["volumes"]:
        attempt(f"volume {vol}", api.remove_volume, vol)
    left = project_objects(project)
    if not left.empty():
        raise EngineError(
            f"compose project {project} still has {left.describe()}: {'; '.join(errors)}",
            hint=f"remove them by hand (`docker compose -p {project} down -v`)",
        )
    return ProjectObjects(**{kind: tuple(n for _, n in objs) for kind, objs in found.items()})


def compose_version() -> str:
    """The Compose plugin's version, or "unknown"."""
    try:
        proc = subprocess.run(
            ["docker", "compose", "version", "--short"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            start_new_session=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() or "unknown"


def engine_version() -> str:
    """The engine's server version."""
    with translated("reading the engine version"):
        return str(client().version().get("Version", "unknown"))


def compose_files_under(root: Path) -> list[Path]:
    """Every compose file in the folders directly below ``root``."""
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        for name in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"):
            if (sub / name).is_file():
                found.append(sub / name)
                break
    return found


def _is_compose_of(cmdline: list[str], project: str) -> bool:
    return "compose" in cmdline and any(
        a in ("-p", "--project-name") and b == project for a, b in itertools.pairwise(cmdline)
    )


def stop_compose_processes(project: str, *, grace: float = 10.0) -> int:
    """End every `docker compose -p <project>` process; returns how many there were.

    For a dead run's project only: the `compose up` of a run killed during
    deploy goes on creating containers, after any sweep, unless it is stopped.
    """
    return stop_processes(lambda cmdline: _is_compose_of(cmdline, project), grace=grace)


def remove_stack(project: str, compose_file: Path | None) -> ProjectObjects:
    """Remove a stack that hachaos created; returns what there was.

    Stops the dead run's compose processes first, then `compose down --volumes`
    when the compose file still exists (graceful stops), then a label sweep
    through the engine that also works without it.
    """
    stop_compose_processes(project)
    before = project_objects(project)
    if before.empty():
        return before
    if compose_file is not None and compose_file.is_file():
        with contextlib.suppress(EngineError):
            ComposeProject(compose_file, project, env={"HACHAOS_PROJECT": project}).down()
    remove_project_objects(project)
    return before
