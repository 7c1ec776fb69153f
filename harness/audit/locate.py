"""file:line of each finding, from the YAML path it names in the compose file as written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.audit.models import Finding
from harness.scenario.sourcemap import PathPart, SourceMap, parse_yaml, render_path


def _line(smap: SourceMap, path: tuple[str, ...]) -> int:
    """The key line of ``path`` or of its nearest written ancestor (a missing key
    points at its service); values merged in from anchors point at the service too."""
    parts: list[PathPart] = list(path)
    while parts:
        pos = smap.positions.get(render_path(parts))
        if pos is not None:
            return pos.key_line
        parts.pop()
    return 1


def locate(findings: Sequence[Finding], text: str, file: str) -> list[Finding]:
    """The findings with ``file`` and ``line`` set (line 1 when the text does not parse)."""
    _, smap, _ = parse_yaml(text, file)
    return [replace(f, file=file, line=_line(smap, f.path)) for f in findings]
