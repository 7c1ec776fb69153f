"""The Kubernetes engine: a stack's manifests deployed into one namespace per run.

Registered like every engine (harness/engine/registry.py): ``stack.engine: kubernetes``
with ``stack.manifests`` (a file, a folder, a kustomize folder) and an optional
``stack.kubeconfig``. docs/engines.md describes what is real and what differs from Compose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from harness.engine.kubernetes import engine, helper_pods, manifests, targets, workloads
from harness.engine.port import StackEngine
from harness.engine.registry import EngineType, LeftStack, register
from harness.scenario.base import MAX_TEXT
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import StackBase


class KubernetesStack(StackBase):
    """`engine: kubernetes`: the manifests in a namespace of the run's own (docs/engines.md)."""

    definition_key = "manifests"

    engine: Literal["kubernetes"] = Field(
        description="the manifests in a namespace of the run's own on a Kubernetes cluster "
        "(docs/engines.md)"
    )
    manifests: str = Field(
        max_length=MAX_TEXT,
        description="a manifest file, a folder of them or a kustomize folder, relative to the "
        "scenario file",
    )
    kubeconfig: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="the cluster's kubeconfig; default: --kubeconfig, else the local cluster "
        "of `make kube`, else $KUBECONFIG",
    )


def _create(stack: KubernetesStack, definition: Path, project: str, run_id: str) -> StackEngine:
    return engine.KubernetesEngine(definition, project, run_id, kubeconfig=stack.kubeconfig)


def _read(
    stack: KubernetesStack, definition: Path, overrides: Sequence[Path] = ()
) -> ComposeConfig:
    # An overlay (a kustomization building on the base) replaces the base, as the port's
    # with_overrides does: the last one is what gets deployed.
    path = Path(overrides[-1]) if overrides else definition
    return manifests.definition(path, manifests.load(path, engine.kubectl()))


def _remove_left(left: LeftStack) -> list[str]:
    details = left.details
    return engine.remove_left(
        str(details.get("namespace") or left.project),
        left.run_id,
        str(details.get("kubeconfig") or "") or None,
    )


def _hint(name: str, details: Mapping[str, Any]) -> str:
    return f"kubectl delete namespace {name}"


register(
    EngineType(
        stack_model=KubernetesStack,
        create=_create,
        read_definition=_read,
        remove_left=_remove_left,
        removal_hint=_hint,
        noun="Kubernetes namespace",
        platform=workloads,
        containers=targets,
        helpers=helper_pods,
        recognises=manifests.is_manifest_source,
    )
)
