"""Engines by their ``stack.engine`` name: a new engine is one package that registers itself.

A package under ``harness/engine/`` whose ``__init__.py`` calls ``register(EngineType(...))``
is an engine. It declares everything the rest of hachaos asks of an engine by name: the
stack keys it accepts (a ``StackBase`` model with ``engine: Literal["<name>"]``), how to
build the port for one run, how to read its stack definition for validation, its
fault-facing API (whose capabilities are detected, harness/engine/capabilities.py), how a
dead run's resources are found and removed, and the removal hint shown to a user.

Nothing outside ``harness/engine/`` compares an engine's name: it asks this registry
(tests/unit/arch/test_engine_names.py plants a comparison and checks it is caught).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine.capabilities import detect
from harness.engine.port import StackEngine
from harness.errors import ScenarioError
from harness.scenario.compose import ComposeConfig
from harness.scenario.models import StackBase


@dataclass(frozen=True)
class LeftStack:
    """A dead run's stack as its journal describes it (what cleanup removes)."""

    project: str  # the run-scoped name
    run_id: str
    details: Mapping[str, Any]  # the engine's own journal fields (EngineType.journal_record)


@dataclass(frozen=True)
class EngineType:
    """One engine, as its package registers it."""

    stack_model: type[StackBase]  # the stack keys it accepts; its `engine` Literal is the name
    # The port for one run: (stack, definition file resolved, run-scoped name, run id).
    create: Callable[[Any, Path, str, str], StackEngine]
    # The definition as the scenario checks see it: (stack, definition file resolved,
    # files layered over it).
    read_definition: Callable[[Any, Path, Sequence[Path]], ComposeConfig]
    # Removes what a dead run left of its stack; returns what it did, one line each.
    remove_left: Callable[[LeftStack], list[str]]
    # The command a user runs to remove a stack by hand: (name, journal fields).
    removal_hint: Callable[[str, Mapping[str, Any]], str]
    noun: str  # what one deployed stack is called: "compose project", "swarm stack"
    # The calls the faults make beyond containers; its capabilities are detected.
    platform: object = None
    # The container and helper calls of the faults (harness/faults/ports.py), where the
    # engine's workloads are not Docker containers (Kubernetes pods); None: Docker's.
    containers: object = None
    helpers: object = None
    # After cleanup removed the dead runs' stacks of this engine: what the engine set up for
    # them (a swarm one of them created); returns (run id, what it did) lines.
    finish_left: Callable[[Sequence[LeftStack]], list[tuple[str, str]]] | None = None
    # Whether a path is this engine's stack definition (`hachaos init`, `hachaos audit`);
    # None: only the default engine's, which takes whatever no other engine claims.
    recognises: Callable[[Path], bool] | None = None
    # Removes the stale images hachaos built for this engine's stacks, keeping the newest
    # N per service (`hachaos cleanup --images --keep N`); returns the tags removed. Engines
    # that share one builder register the same callable: it runs once.
    prune_images: Callable[[int], list[str]] | None = None
    capabilities: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "capabilities", detect(self.platform))

    @property
    def name(self) -> str:
        """The ``stack.engine`` value."""
        return self.stack_model.engine_name()

    @property
    def is_default(self) -> bool:
        """Whether a stack without ``engine`` runs on this engine."""
        return not self.stack_model.model_fields["engine"].is_required()


_REGISTRY: dict[str, EngineType] = {}
IMAGES_KEPT = 2  # built image tags kept per service: the content in use and the one before


def register(engine: EngineType) -> EngineType:
    """Make ``engine`` the one its stack model's ``engine`` names."""
    name = engine.name
    if _REGISTRY.get(name, engine) is not engine:
        raise ValueError(f"engine {name!r} registered twice")
    if engine.is_default and any(e.is_default for e in _REGISTRY.values() if e is not engine):
        raise ValueError(f"engine {name!r}: another engine is already the default")
    engine.stack_model.capabilities = engine.capabilities
    _REGISTRY[name] = engine
    return engine


def _registers(init: Path) -> bool:
    """Whether a package's ``__init__.py`` calls ``register(...)``."""
    try:
        tree = ast.parse(init.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    return any(
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "register")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "register")
        )
        for node in ast.walk(tree)
    )


_loaded: list[bool] = []


def _load_all() -> None:
    """Import every engine package once."""
    if _loaded:
        return
    import harness.engine as pkg

    _loaded.append(True)
    for mod in pkgutil.iter_modules(pkg.__path__):
        origin = Path(getattr(mod.module_finder, "path", "")) / mod.name / "__init__.py"
        if mod.ispkg and _registers(origin):
            importlib.import_module(f"harness.engine.{mod.name}")


def get(name: str) -> EngineType:
    """The engine registered as ``name``."""
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ScenarioError(
            f"unknown engine {name!r}; known: {known}",
            hint="set `stack.engine` to one of them (docs/engines.md)",
        ) from None


def prune_images(keep: int) -> list[str]:
    """Every engine's stale built images, each pruner once; returns the tags removed."""
    _load_all()
    done: list[Callable[[int], list[str]]] = []
    removed: list[str] = []
    for engine in _REGISTRY.values():
        if engine.prune_images is not None and engine.prune_images not in done:
            done.append(engine.prune_images)
            removed += engine.prune_images(keep)
    return removed


def names() -> list[str]:
    """Every registered engine name, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def default() -> EngineType:
    """The engine a stack without ``engine`` runs on."""
    _load_all()
    for engine in _REGISTRY.values():
        if engine.is_default:
            return engine
    raise ScenarioError("no default engine is registered")


def stack_models() -> tuple[type[StackBase], ...]:
    """The stack model of every engine: the default first, then by name."""
    _load_all()
    ordered = sorted(_REGISTRY.values(), key=lambda e: (not e.is_default, e.name))
    return tuple(e.stack_model for e in ordered)


def for_definition(path: Path) -> EngineType:
    """The engine whose stack definition ``path`` is: the first other engine that
    recognises it, else the default one (`hachaos init`, `hachaos audit`)."""
    _load_all()
    for engine in sorted(_REGISTRY.values(), key=lambda e: e.name):
        if not engine.is_default and engine.recognises is not None and engine.recognises(path):
            return engine
    return default()


def for_stack(stack: StackBase, definition: Path, project: str, run_id: str) -> StackEngine:
    """The port of the engine ``stack.engine`` names, for one run."""
    return get(stack.engine).create(stack, definition, project, run_id)


def read_definition(
    stack: StackBase, definition: Path, /, overrides: Sequence[Path] = ()
) -> ComposeConfig:
    """The stack's definition (with ``overrides`` layered over it) read by its engine
    (no engine call: works offline)."""
    return get(stack.engine).read_definition(stack, definition, overrides)
