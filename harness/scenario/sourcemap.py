"""YAML text → plain data plus the line and column of every key and value.

PyYAML's ``safe_load`` forgets where things were written. We compose the node
tree first, remember each node's position under its YAML path
(``faults[2].target.service``), then construct the data from the same tree.
Duplicate keys, which ``safe_load`` silently collapses, are reported here.

The input is bounded before anything walks or constructs it: aliases can make
a few hundred bytes stand for millions of nodes ("billion laughs"), so the
node graph's expanded size is counted first, visiting each distinct node once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.errors import Problem

PathPart = str | int

MAX_NODES = 100_000
"""Most YAML nodes a scenario may have, composed or after alias expansion."""


@dataclass
class YamlStats:
    """Work done on one document: nodes composed, distinct nodes visited by the size count."""

    composed: int = 0
    visited: int = 0


class _Refused(Exception):
    """The document is beyond a bound; carries the node where it was noticed."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


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
    """Keeps mapping keys as written: YAML 1.1 would read `yes:` as True and `3:` as 3.

    Also counts composed nodes (an alias counts once per use) and stops beyond
    MAX_NODES, and turns a value PyYAML cannot construct (an integer of more than
    4300 digits, a date such as 2024-13-45) into a located error instead of a crash.
    """

    def __init__(self, text: str, stats: YamlStats) -> None:
        super().__init__(text)
        self.stats = stats

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        node = super().compose_node(parent, index)
        self.stats.composed += 1
        if node is not None and self.stats.composed > MAX_NODES:
            raise _Refused(f"the document has more than {MAX_NODES} YAML nodes (the limit)", node)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                # The first clause only: Python's advice to raise its limit is not for users.
                None,
                None,
                f"cannot read this value: {str(exc).split(';')[0]}",
                node.start_mark,
            ) from None

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


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, stats: YamlStats) -> None:
    """Refuse a node graph that aliases expand beyond MAX_NODES, or that contains itself.

    Each distinct node is visited once (sizes are memoised), so the work is
    linear in the file, whatever the aliases would expand to.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Refused(
                "a YAML alias refers to a node that contains it (a recursive value)", node
            )
        stats.visited += 1
        open_nodes.add(key)
        total = 1
        for child in _children(node):
            total += size(child)
            if total > MAX_NODES:
                raise _Refused(
                    f"YAML aliases expand this value to more than {MAX_NODES} nodes (the limit);"
                    " write the values out or use fewer aliases",
                    node,
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


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


def parse_yaml(
    text: str, file: str, stats: YamlStats | None = None
) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse one YAML document; return its data, its source map and any located problems.

    A syntax error, or a document beyond MAX_NODES (aliases expanded), yields
    ``(None, map, [problem])`` located where PyYAML stopped. ``stats``, when
    given, receives the work done.
    """
    smap = SourceMap(file)
    loader = _TextKeyLoader(text, stats if stats is not None else YamlStats())
    try:
        node = loader.get_single_node()
        if node is None:
            return None, smap, []
        _check_expansion(node, loader.stats)
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
    except _Refused as exc:
        line, col = _mark(exc.node)
        return None, smap, [Problem("", exc.message, file=file, line=line, column=col)]
    except RecursionError:
        message = "the YAML is nested too deeply; a scenario needs a few levels only"
        return None, smap, [Problem("", message, file=file, line=1, column=1)]
    finally:
        loader.dispose()
    return data, smap, problems
