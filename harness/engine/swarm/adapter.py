"""The Swarm adapter of the engine port: `docker stack` on a swarm.

Talks to the engine through the Docker SDK, and runs the docker CLI for
`docker stack deploy` and `docker stack rm` only (the SDK has no stack support),
with an argv list and a validated stack name: no shell.

Blast radius: every service, task, container, network and volume is selected
by the stack's ``com.docker.stack.namespace`` label, and the label is
re-checked on what the engine returns, so a look-alike service of another
stack (same service name, another namespace) is never touched.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.compose.config import read_compose_config
from harness.engine.compose.project import ComposeProject, engine_version
from harness.engine.containers import Target
from harness.engine.docker_cli import run_docker, tail
from harness.engine.port import EmitFn, WorkerPlacement, WorkerTask
from harness.engine.registry import LeftStack
from harness.engine.stats import DockerStats, DockerStatsAbility, swarm_identity
from harness.engine.swarm import workers as swarm_workers
from harness.engine.swarm.events import TaskObserver
from harness.engine.swarm.lifecycle import DockerSwarmOps, SwarmOps, ensure_swarm, leave_if_ours
from harness.engine.swarm.names import NAMESPACE, check_stack_name, short_name
from harness.engine.swarm.nodes import node_count
from harness.engine.swarm.objects import remove_stack_objects, stack_objects, stack_services
from harness.engine.swarm.preflight import IPVS_HINT, ipvs_available, preflight
from harness.engine.swarm.services import inspect_service, service_id
from harness.engine.swarm.stack import SwarmStack
from harness.engine.swarm.tasks import published_host, select_tasks, wait_converged
from harness.errors import EngineError


@dataclass
class SwarmEngine(DockerStatsAbility):
    """A swarm stack deployed by hachaos under a run-scoped stack name."""

    file: Path
    project: str  # the stack name
    run_id: str
    env: Mapping[str, str] = field(default_factory=dict)
    ops: SwarmOps = field(default_factory=DockerSwarmOps)
    kind: str = "swarm"
    created_swarm: bool = False
    _observer: TaskObserver | None = None
    # What the preflight could not tell (DeployWarnings): the run shows and reports it.
    deploy_warnings: list[str] = field(default_factory=list)
    overrides: tuple[Path, ...] = ()  # more compose files, `stack deploy -c` after `file`
    scale: Mapping[str, int] = field(default_factory=dict)  # replicas per service

    def __post_init__(self) -> None:
        check_stack_name(self.project)

    @classmethod
    def create(cls, stack: SwarmStack, file: Path, project: str, run_id: str) -> SwarmEngine:
        """The port for one run of ``stack`` (its compose file resolved to ``file``)."""
        return cls(file, project, run_id)

    def with_env(self, **env: str) -> SwarmEngine:
        return dataclasses.replace(self, env={**self.env, **env}, _observer=None)

    def with_overrides(self, files: Sequence[Path]) -> SwarmEngine:
        return dataclasses.replace(self, overrides=(*self.overrides, *files), _observer=None)

    def with_replicas(self, service: str, count: int) -> SwarmEngine:
        return dataclasses.replace(self, scale={**self.scale, service: count}, _observer=None)

    def existing(self) -> str | None:
        if self.ops.state() != "active":
            return None
        found = stack_objects(self.project)
        return None if found.empty() else found.describe()

    def _cli(self, *args: str, timeout: float) -> None:
        proc = run_docker(["stack", *args], timeout=timeout, env=self.env)
        if proc.returncode != 0:
            raise EngineError(
                f"`docker stack {args[0]}` failed for stack {self.project}:\n"
                f"{tail(proc.stderr or proc.stdout)}",
                hint=f"inspect with `docker stack ps {self.project} --no-trunc`",
            )

    def deploy(self, *, ready_timeout: float) -> None:
        # Refused before the swarm is touched: a refused stack leaves the engine as it was.
        canonical = read_compose_config(self.file, self.project, self.overrides)
        self.deploy_warnings = preflight(canonical.raw, self.file)
        self.created_swarm = ensure_swarm(self.ops, self.run_id) or self.created_swarm
        # `docker stack deploy` builds nothing: build under the stable build project.
        ComposeProject(self.file, self.project, env=self.env, overrides=self.overrides).build()
        with tempfile.TemporaryDirectory(prefix="hachaos-scale-") as folder:
            files = [self.file, *self.overrides]
            if self.scale:  # the service's replicas as `docker service scale` would set them
                replicas = Path(folder) / "replicas.json"  # JSON is YAML, as the CLI reads it
                services = {svc: {"deploy": {"replicas": n}} for svc, n in self.scale.items()}
                replicas.write_text(json.dumps({"services": services}))
                files.append(replicas)
            self._cli(
                "deploy",
                *(arg for f in files for arg in ("--compose-file", str(f))),
                "--resolve-image",
                "never",
                "--prune",
                self.project,
                timeout=300.0,
            )
        wait_converged(self.project, ready_timeout, what=f"swarm stack {self.project}")

    def published_port(self, service: str, port: int) -> tuple[str, int]:
        doc = inspect_service(service_id(self.project, service))
        for p in (doc.get("Endpoint") or {}).get("Ports") or []:
            if int(p.get("TargetPort", 0)) == port and p.get("PublishedPort"):
                if p.get("PublishMode") != "host" and not ipvs_available():
                    raise EngineError(
                        f"service {service!r} publishes {port} in ingress mode", hint=IPVS_HINT
                    )
                return (published_host(self.project, service), int(p["PublishedPort"]))
        raise EngineError(
            f"service {service!r} does not publish container port {port}",
            hint=f"publish it in host mode: `ports: [{{target: {port}, published: "
            "${HACHAOS_PORT}, mode: host}]`",
        )

    def select(self, service: str, replicas: tuple[int, ...]) -> list[Target]:
        return select_tasks(self.project, service, replicas)

    # ------------------------------------------------------------------ load workers
    def worker_master_address(self) -> str:
        return swarm_workers.master_address()

    def worker_target(self, service: str, port: int, scheme: str) -> str:
        # the service's short name is its alias on the stack's networks (dnsrr: its tasks)
        return f"{scheme}://{service}:{port}"

    def worker_record(self) -> dict[str, Any]:
        return {"engine": self.kind, "service": swarm_workers.service_name(self.project)}

    def place_workers(self, placement: WorkerPlacement) -> dict[str, Any]:
        swarm_workers.place(self.project, self.run_id, placement)
        return self.worker_record()

    def worker_tasks(self) -> list[WorkerTask]:
        return swarm_workers.tasks(self.project, self.run_id)

    def remove_workers(self) -> str:
        return "; ".join(swarm_workers.remove(self.project, self.run_id))

    def teardown(self) -> None:
        self.stop_observing()
        if self.ops.state() != "active":
            return  # no swarm, so no stack: refused before the deploy, or never reached it
        self._cli("rm", self.project, timeout=120.0)
        remove_stack_objects(self.project)  # waits until the networks are gone, drops volumes

    def sweep(self) -> str:
        if self.ops.state() != "active":
            return "nothing"
        return remove_stack_objects(self.project).describe()

    def warnings(self) -> list[str]:
        return list(self.deploy_warnings)

    def environment(self) -> dict[str, Any]:
        try:
            engine = engine_version()
            images = {
                short_name(s["Spec"]["Name"], self.project): str(
                    s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image", "")
                )
                for s in stack_services(self.project)
            }
            nodes = node_count()
        except EngineError:
            engine, images, nodes = "unknown", {}, 0
        return {
            "engine": "swarm",
            "engine_version": engine,
            "swarm_nodes": nodes,
            "swarm_created_by_run": self.created_swarm,
            "ipvs": ipvs_available(),
            "images": images,
        }

    def journal_record(self) -> dict[str, Any]:
        return {
            "engine": "swarm",
            "compose": str(self.file),
            "swarm_created": self.created_swarm,
        }

    def observe(self, emit: EmitFn) -> None:
        self._observer = TaskObserver(self.project, emit)
        self._observer.start()

    def stop_observing(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None

    def finish(self) -> list[str]:
        if not self.created_swarm:
            return []
        notice = leave_if_ours(self.ops, self.run_id)
        return [notice] if notice else []

    # ContainerStats (harness/engine/stats.py): the stack's task containers on this engine
    def _stats(self) -> DockerStats:
        return DockerStats(f"{NAMESPACE}={self.project}", swarm_identity(self.project))


def remove_left(left: LeftStack) -> list[str]:
    """Remove a dead run's stack by label (no swarm: nothing of it can be left)."""
    if DockerSwarmOps().state() != "active":
        return []
    removed = remove_stack_objects(check_stack_name(left.project))
    return [] if removed.empty() else [f"removed swarm stack {left.project}: {removed.describe()}"]


def finish_left(left: Sequence[LeftStack]) -> list[tuple[str, str]]:
    """Leave the swarm if one of the dead runs created it and no service is left on it
    (its node label names the run); after all their stacks are gone."""
    ops = DockerSwarmOps()
    done = []
    for stack in left:
        notice = leave_if_ours(ops, stack.run_id)
        if notice:
            done.append((stack.run_id, notice))
    return done


def removal_hint(project: str, details: Mapping[str, object]) -> str:
    """How a user removes the stack by hand (`stack rm` leaves the volumes)."""
    return (
        f"docker stack rm {project}, then its volumes "
        f"(docker volume ls -q --filter label={NAMESPACE}={project} | xargs -r docker volume rm)"
    )
