"""Request templates and a strict JSON-path subset, shared by the load and the read-back.

Templates are plain text with ``{name}`` placeholders (``{{`` and ``}}`` are
literal braces). Substitution is a string replacement from a dict of values:
no ``eval``, no format mini-language, no attribute access, nothing reaches a
shell. Values substituted into a URL path are percent-encoded, so a captured
id can never add a path segment or a query.

JSON paths are a strict subset, ``$``, ``.name``, ``['name']`` and ``[N]``:
exactly one value is addressed (an id to capture, a field to compare), which
is what a wildcard or filter of full JSONPath would make ambiguous. Anything
else is refused with the position of the problem. Bounded: 256 characters,
16 steps.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_TEMPLATE = 2048
MAX_JSON_PATH = 256
MAX_JSON_STEPS = 16
MAX_VALUE = 256  # a captured or substituted value, in characters
MAX_BODY_DEPTH = 8
MAX_BODY_NODES = 512

# Placeholders every request may use; ``captured.<name>`` is checked against the captures.
REQUEST_NAMES = frozenset({"seq", "uuid", "run_id"})
CAPTURED_PREFIX = "captured."
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.]{0,99})\}|[{}]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]{0,99})|\['([^'\\]{1,100})'\]|\[(\d{1,6})\]")


class TemplateError(ValueError):
    """A template or JSON path that does not parse; the message says where and why."""


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template``, in order; raises TemplateError on a stray brace."""
    if len(template) > MAX_TEMPLATE:
        raise TemplateError(f"a template is at most {MAX_TEMPLATE} characters")
    names: list[str] = []
    for m in _TOKEN.finditer(template):
        text = m.group(0)
        if text in ("{{", "}}"):
            continue
        if m.group(1) is None:
            raise TemplateError(
                f"stray {text!r} at position {m.start()} of {template!r}; write {text * 2}"
                " for a literal brace, or {name} for a placeholder"
            )
        names.append(m.group(1))
    return names


def check_template(
    template: str, allowed: Iterable[str], captures: Iterable[str] | None = ()
) -> None:
    """Raise TemplateError unless every placeholder is in ``allowed`` or a known capture.

    ``captures=None`` accepts any ``{captured.<name>}`` (checked later, with the list).
    """
    allowed_set = frozenset(allowed)
    captured = None if captures is None else frozenset(captures)
    for name in placeholders(template):
        if name.startswith(CAPTURED_PREFIX) and "captured" in allowed_set:
            if captured is not None and name[len(CAPTURED_PREFIX) :] not in captured:
                known = ", ".join(sorted(captured)) or "none"
                raise TemplateError(
                    f"{{{name}}} names no capture; the requests capture: {known}"
                    " (add `capture: {" + name[len(CAPTURED_PREFIX) :] + ": $.id}` to one)"
                )
            continue
        if name not in allowed_set:
            shown = ", ".join(
                f"{{{n}}}" if n != "captured" else "{captured.<name>}" for n in sorted(allowed_set)
            )
            raise TemplateError(f"unknown placeholder {{{name}}}; expected one of {shown}")


def render(template: str, values: Mapping[str, str], *, quote: bool = False) -> str:
    """``template`` with every placeholder replaced by its value (percent-encoded if ``quote``).

    Raises KeyError for a placeholder without a value (the caller checked the names).
    """

    def one(m: re.Match[str]) -> str:
        text = m.group(0)
        if text in ("{{", "}}"):
            return text[0]
        if m.group(1) is None:
            raise TemplateError(f"stray {text!r} in {template!r}")
        value = values[m.group(1)]
        return urllib.parse.quote(value, safe="-._~") if quote else value

    return _TOKEN.sub(one, template)


def body_strings(body: Any) -> list[str]:
    """Every string of a JSON body template (keys and values), for checking placeholders."""
    out: list[str] = []
    nodes = 0

    def walk(node: Any, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_BODY_NODES:
            raise TemplateError(f"a JSON body holds at most {MAX_BODY_NODES} values")
        if depth > MAX_BODY_DEPTH:
            raise TemplateError(f"a JSON body nests at most {MAX_BODY_DEPTH} levels")
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Mapping):
            for k, v in node.items():
                out.append(str(k))
                walk(v, depth + 1)
        elif isinstance(node, list):
            for v in node:
                walk(v, depth + 1)
        elif node is not None and not isinstance(node, bool | int | float):
            raise TemplateError(f"a JSON body holds only JSON values, found {type(node).__name__}")

    walk(body, 0)
    return out


def render_body(body: Any, values: Mapping[str, str]) -> Any:
    """A JSON body template with placeholders replaced in every string (keys included)."""
    if isinstance(body, str):
        return render(body, values)
    if isinstance(body, Mapping):
        return {render(str(k), values): render_body(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [render_body(v, values) for v in body]
    return body


# --------------------------------------------------------------------------- JSON path
@dataclass(frozen=True)
class JsonPath:
    """A parsed path of the strict subset; ``steps`` are keys (str) and indexes (int)."""

    text: str
    steps: tuple[str | int, ...]

    def find(self, document: Any) -> tuple[bool, Any]:
        """``(True, value)`` where the path leads, ``(False, None)`` where it does not."""
        node = document
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return False, None
            elif not isinstance(node, dict) or step not in node:
                return False, None
            node = node[step]
        return True, node


def parse_json_path(text: str) -> JsonPath:
    """Parse ``$.a.b[0]`` / ``$['a b']``; raises TemplateError naming the first bad position."""
    if len(text) > MAX_JSON_PATH:
        raise TemplateError(f"a JSON path is at most {MAX_JSON_PATH} characters")
    if not text.startswith("$"):
        raise TemplateError(f"a JSON path starts with `$`, found {text!r}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise TemplateError(
                f"unsupported JSON path {text!r} at position {pos} ({text[pos : pos + 10]!r});"
                " hachaos takes only `$`, `.name`, `['name']` and `[N]`"
            )
        key, quoted, index = m.groups()
        steps.append(int(index) if index is not None else (key or quoted))
        pos = m.end()
        if len(steps) > MAX_JSON_STEPS:
            raise TemplateError(f"a JSON path has at most {MAX_JSON_STEPS} steps")
    return JsonPath(text, tuple(steps))


def scalar_text(value: Any) -> str | None:
    """A captured JSON value as text: strings and integers only, printable, bounded.

    Anything else (objects, floats, booleans, control characters, over
    ``MAX_VALUE``) is refused with None, so a captured value is safe in a path
    (quoted anyway), a header and a body.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    if not text or len(text) > MAX_VALUE or not (text.isascii() and text.isprintable()):
        return None
    return text


def capture_name_problem(name: str) -> str | None:
    """Why ``name`` may not name a capture, or None."""
    if _NAME.match(name):
        return None
    return f"a capture name is a letter or _ then letters, digits or _, found {name!r}"
