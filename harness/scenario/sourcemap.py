"""YAML text → plain data plus the line and column of every key and value.

PyYAML's ``safe_load`` forgets where things were written. We compose the node
tree first, remember each node's position under its YAML path
(``faults[2].target.service``), then construct the data from the same tree.
Duplicate keys, which ``safe_load`` silently collapses, are reported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.errors import Problem

PathPart = str | int


def render_path(parts: tuple[PathPart, ...] | list[PathPart]) -> str:
    """``("faults", 2, "target")`` → ``faults[2].target``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Position:
    """1-based line and column of a key and of its value."""

    key_line: int
    key_column: int
    line: int
    column: int


@dataclass
class SourceMap:
    """Where each YAML path was written in one file."""

    file: str
    positions: dict[str, Position] = field(default_factory=dict)

    def locate(self, path: tuple[PathPart, ...], *, at_key: bool = False) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest written ancestor."""
        parts = list(path)
        while True:
            pos = self.positions.get(render_path(parts))
            if pos is not None:
                if at_key and len(parts) == len(path):
                    return pos.key_line, pos.key_column
                return pos.line, pos.column
            if not parts:
                return 1, 1
            parts.pop()

    def problem(
        self,
        path: tuple[PathPart, ...],
        message: str,
        *,
        at_key: bool = False,
        suggestion: str | None = None,
    ) -> Problem:
        """A Problem located at ``path`` in this file."""
        line, column = self.locate(path, at_key=at_key)
        return Problem(
            path=render_path(path),
            message=message,
            file=self.file,
            line=line,
            column=column,
            suggestion=suggestion,
        )

    def relocate(self, problem: Problem, path: tuple[PathPart, ...]) -> Problem:
        """Give a problem found without positions (a semantic check) its location."""
        return self.problem(path, problem.message, suggestion=problem.suggestion)


def parse_path(text: str) -> tuple[PathPart, ...]:
    """Inverse of :func:`render_path`: ``faults[2].target`` → ``("faults", 2, "target")``."""
    parts: list[PathPart] = []
    for chunk in text.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        for index in rest.split("[") if rest else []:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)


class _TextKeyLoader(yaml.SafeLoader):
    """Keeps mapping keys as written: YAML 1.1 would read `yes:` as True and `3:` as 3."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be plain text", key_node.start_mark
                )
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _walk(node: yaml.Node, path: tuple[PathPart, ...], smap: SourceMap, out: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            key_line, key_col = _mark(key_node)
            if key in seen:
                out.append(
                    Problem(
                        path=render_path((*path, key)),
                        message=f"duplicate key {key!r}; it was already given on line {seen[key]}",
                        file=smap.file,
                        line=key_line,
                        column=key_col,
                    )
                )
                continue
            seen[key] = key_line
            line, col = _mark(value_node)
            smap.positions[render_path((*path, key))] = Position(key_line, key_col, line, col)
            _walk(value_node, (*path, key), smap, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            line, col = _mark(item)
            smap.positions[render_path((*path, index))] = Position(line, col, line, col)
            _walk(item, (*path, index), smap, out)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse one YAML document; return its data, its source map and any located problems.

    A syntax error yields ``(None, map, [problem])`` located where PyYAML stopped.
    """
    smap = SourceMap(file)
    loader = _TextKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, smap, []
        problems: list[Problem] = []
        smap.positions[""] = Position(*_mark(node), *_mark(node))
        _walk(node, (), smap, problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.context_mark and exc.problem:
            where = exc.context_mark
            what += f" ({exc.context} at line {where.line + 1}, column {where.column + 1})"
        return (
            None,
            smap,
            [Problem("", f"invalid YAML: {what}", file=file, line=line, column=col)],
        )
    except yaml.YAMLError as exc:
        return None, smap, [Problem("", f"invalid YAML: {exc}", file=file, line=1, column=1)]
    finally:
        loader.dispose()
    return data, smap, problems
