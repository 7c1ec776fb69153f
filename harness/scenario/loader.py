"""Scenario file → validated Scenario, or one ScenarioError listing every located problem.

Nothing here talks to Docker: :func:`validate_file` is handed the function that reads
the stack's definition (the engine's, e.g. ``docker compose config``, which works
offline) and the checks of the layers above; ``harness.run.validate`` wires the real
ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from harness.errors import Problem, ScenarioError
from harness.scenario.compose import ComposeConfig
from harness.scenario.explain import describe, explain
from harness.scenario.models import Scenario, StackBase
from harness.scenario.semantics import Check, check_scenario, check_variant
from harness.scenario.sourcemap import SourceMap, parse_path, parse_yaml


def _fail(file: str, problems: list[Problem]) -> ScenarioError:
    count = len(problems)
    return ScenarioError(
        f"{file}: {count} problem{'s' if count != 1 else ''}",
        problems=problems,
        hint="fix them and run `hachaos validate` again; docs/scenarios.md lists every field",
    )


def _python_only_keys(data: dict[str, Any], smap: SourceMap) -> list[Problem]:
    found: list[Problem] = []
    if "source" in data:
        found.append(smap.problem(("source",), "unknown key 'source'", at_key=True))
    for i, fault in enumerate(data.get("faults") or []):
        if isinstance(fault, dict) and "for_" in fault:
            found.append(
                smap.problem(
                    ("faults", i, "for_"), "unknown key 'for_'", at_key=True, suggestion="for"
                )
            )
    return found


MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario file read (1 MiB); real ones are a few kB."""


def _read(path: Path, label: str) -> str:
    try:
        # Read at most one byte past the cap: a FIFO or /dev/zero must not hang us.
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            problem = Problem(
                path="",
                message=f"the file is larger than 1 MiB ({MAX_FILE_BYTES} bytes), the limit for"
                " a scenario",
                file=label,
                line=1,
                column=1,
            )
            raise _fail(label, [problem])
        return raw.decode("utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{label}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{label}: cannot read the file: {exc}") from exc


def _load(path: Path, model: type[Scenario]) -> tuple[Scenario, SourceMap]:
    label = str(path)
    data, smap, problems = parse_yaml(_read(path, label), label)
    if problems and data is None:
        raise _fail(label, problems)
    if not isinstance(data, dict):
        problems.append(
            smap.problem(
                (), f"expected a mapping with version, name, stack, ..., found {describe(data)}"
            )
        )
        raise _fail(label, problems)
    problems += _python_only_keys(data, smap)
    try:
        scenario = model.model_validate(data)
    except ValidationError as exc:
        problems += explain(exc, data, smap, model)
        raise _fail(label, sorted(problems, key=lambda p: (p.line, p.column))) from None
    if problems:
        raise _fail(label, problems)
    return scenario.model_copy(update={"source": path.resolve()}), smap


def load_scenario(path: Path, model: type[Scenario]) -> Scenario:
    """Parse and validate one scenario file; raise ScenarioError with every problem.

    ``model`` is the concrete Scenario model (harness.faults.catalog.Scenario), which
    knows the fault types; ``harness.faults.catalog.load_scenario`` passes it.

    The returned model has ``source`` set to the file's absolute path, so that
    relative paths inside it resolve against the scenario's folder.
    """
    return _load(path, model)[0]


def definition_path(scenario: Scenario) -> Path:
    """The stack definition (e.g. the compose file) of a loaded scenario."""
    return scenario.resolve_path(scenario.stack.definition())


class StackReader(Protocol):
    """Reads a stack's definition (its engine's file, resolved, with files layered over it)
    into a ComposeConfig; it is called without ``overrides`` when there are none."""

    def __call__(
        self, stack: StackBase, definition: Path, /, overrides: Sequence[Path] = ()
    ) -> ComposeConfig: ...


def _read_stack(read: StackReader, scenario: Scenario, extra: Sequence[str] = ()) -> ComposeConfig:
    layers = [scenario.resolve_path(f) for f in (*scenario.stack.overrides, *extra)]
    if layers:
        return read(scenario.stack, definition_path(scenario), overrides=layers)
    return read(scenario.stack, definition_path(scenario))


def _variant_problems(
    scenario: Scenario, read_stack: StackReader, smap: SourceMap
) -> list[Problem]:
    """Each variant's stack read with its files, and checked where it can differ."""
    problems: list[Problem] = []
    for i, variant in enumerate(scenario.stack.variants):
        try:
            config = _read_stack(read_stack, scenario, variant.overrides)
        except ScenarioError as exc:
            problems.append(smap.problem(("stack", "variants", i, "overrides"), exc.message))
            continue
        problems += [
            smap.relocate(p, parse_path(p.path)) for p in check_variant(scenario, i, config)
        ]
    return problems


def validate_file(
    path: Path,
    model: type[Scenario],
    read_stack: StackReader,
    checks: Sequence[Check] = (),
) -> tuple[Scenario, ComposeConfig]:
    """Load a scenario (with the concrete ``model``), read its stack definition with
    ``read_stack`` and run every semantic check plus ``checks``.

    Raises one ScenarioError listing every problem, each located in the file.
    """
    scenario, smap = _load(path, model)
    try:
        compose = _read_stack(read_stack, scenario)
    except ScenarioError as exc:
        key = "overrides" if scenario.stack.overrides else scenario.stack.definition_key
        problem = smap.problem(("stack", key), exc.message)
        raise _fail(str(path), [problem]) from exc
    problems = [
        smap.relocate(p, parse_path(p.path)) for p in check_scenario(scenario, compose, checks)
    ]
    problems += _variant_problems(scenario, read_stack, smap)
    if problems:
        raise _fail(str(path), sorted(problems, key=lambda p: (p.line, p.column)))
    return scenario, compose
