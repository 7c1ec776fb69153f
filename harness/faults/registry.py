"""Fault types by their YAML ``type``: a new fault is one module with ``@register``.

A plugin module holds the fault's spec model (a subclass of
``harness.scenario.models.FaultBase`` whose docstring is its documentation) and
its behaviour, ``@register class X(Fault[XSpec])``. Discovery imports every
module of this package that defines such a class, and nothing else.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import Any, TypeVar, get_args

from harness.errors import ScenarioError
from harness.faults.base import Fault, InstantFault
from harness.scenario.models import FaultBase

_REGISTRY: dict[str, type[Fault[Any]]] = {}

F = TypeVar("F", bound=type[Fault[Any]])


def _spec_model(cls: type[Fault[Any]]) -> type[FaultBase]:
    """The spec model ``X`` of ``class Y(Fault[X])`` (or of a generic base given X)."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            for arg in get_args(base):
                if isinstance(arg, type) and issubclass(arg, FaultBase):
                    return arg
    raise TypeError(
        f"{cls.__name__}: name its spec model, e.g. `class {cls.__name__}(Fault[Spec])`"
    )


def register(cls: F) -> F:
    """Class decorator: make ``cls`` the implementation of its spec model's ``type``.

    The class-level facts (``type``, ``instant``, ``namespaces``) are read from the
    spec model, so the scenario layer (plan, validation, docs) and the runner agree.
    """
    spec = _spec_model(cls)
    fault_type = spec.fault_type()
    if _REGISTRY.get(fault_type, cls) is not cls:
        raise ValueError(f"fault type {fault_type!r} registered twice")
    if spec.instant != issubclass(cls, InstantFault):
        raise TypeError(
            f"{cls.__name__}: an instant spec ({spec.__name__}.instant) needs an InstantFault"
            " behaviour, and only then"
        )
    if not cls.acts_in <= spec.namespaces:
        missing = ", ".join(sorted(cls.acts_in - spec.namespaces))
        raise TypeError(
            f"{spec.__name__}.namespaces must include {missing} ({cls.__name__} acts there)"
        )
    cls.spec_model = spec
    cls.type = fault_type
    cls.instant = spec.instant
    cls.namespaces = spec.namespaces
    _REGISTRY[fault_type] = cls
    return cls


def _defines_plugin(path: Path) -> bool:
    """Whether a module's source has a class decorated with ``@register``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return False
    return any(
        isinstance(node, ast.ClassDef)
        and any(
            (isinstance(d, ast.Name) and d.id == "register")
            or (isinstance(d, ast.Attribute) and d.attr == "register")
            for d in node.decorator_list
        )
        for node in ast.walk(tree)
    )


_loaded: list[bool] = []


def _load_all() -> None:
    """Import every plugin module once (importing one alone must not hide the others)."""
    if _loaded:
        return
    import harness.faults as pkg

    _loaded.append(True)
    for mod in pkgutil.iter_modules(pkg.__path__):
        origin = Path(getattr(mod.module_finder, "path", "")) / f"{mod.name}.py"
        if not mod.ispkg and _defines_plugin(origin):
            importlib.import_module(f"harness.faults.{mod.name}")


def get(fault_type: str) -> type[Fault[Any]]:
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


def specs() -> tuple[type[FaultBase], ...]:
    """The spec model of every registered fault type, sorted by type."""
    _load_all()
    return tuple(_REGISTRY[t].spec_model for t in sorted(_REGISTRY))
