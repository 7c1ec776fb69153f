"""Fault types by their YAML ``type``; a new fault is one module with ``@register``."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from harness.errors import ScenarioError
from harness.faults.base import Fault

_REGISTRY: dict[str, type[Fault]] = {}
_NOT_FAULTS = {"base", "registry", "runner", "heal", "netns", "proxied", "proxy"}

F = TypeVar("F", bound=type[Fault])


def register(cls: F) -> F:
    """Class decorator: make ``cls`` the implementation of ``cls.type``."""
    if cls.type in _REGISTRY and _REGISTRY[cls.type] is not cls:
        raise ValueError(f"fault type {cls.type!r} registered twice")
    _REGISTRY[cls.type] = cls
    return cls


_loaded: list[bool] = []


def _load_all() -> None:
    """Import every fault module once (importing one alone must not hide the others)."""
    if _loaded:
        return
    import harness.faults as pkg

    _loaded.append(True)
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in _NOT_FAULTS:
            importlib.import_module(f"harness.faults.{mod.name}")


def get(fault_type: str) -> type[Fault]:
    """The class registered for ``fault_type``."""
    _load_all()
    try:
        return _REGISTRY[fault_type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ScenarioError(f"unknown fault type {fault_type!r}; known: {known}") from None


def types() -> list[str]:
    """Every registered fault type."""
    _load_all()
    return sorted(_REGISTRY)
