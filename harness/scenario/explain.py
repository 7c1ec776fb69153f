"""Pydantic validation errors → located, human problems.

Pydantic reports locations with internal parts a scenario author never wrote:
union branches (``stack.target.ServicePort.port``) and discriminator tags
(``faults[0].kill.for``). We walk the model types along each location to drop
those parts, keep only the union branch that matches what was written, and
phrase every error as "expected X, found Y" with a did-you-mean where a near
miss is likely.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harness.errors import Problem
from harness.scenario.guards import ABORT_TYPES
from harness.scenario.models import FaultBase, Scenario, fault_specs
from harness.scenario.sourcemap import PathPart, SourceMap
from harness.scenario.units import shown

# Human words for the few regular expressions in the models.
_PATTERNS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": (
        "a name of letters, digits, '.', '_' or '-' that starts with a letter or digit"
    ),
    r"^[a-z0-9][a-z0-9_-]*$": "lower-case letters, digits, '_' or '-'",
    r"^\d+(\.\d+)?(bit|kbit|mbit|gbit)$": "a rate such as 500kbit or 1mbit",
    r"^(SIG)?[A-Z][A-Z0-9+-]{0,11}$|^[0-9]{1,2}$": "a signal such as SIGKILL, TERM or 9",
    r"^/[^\s#]*$": "an HTTP path such as /health (starts with /, no spaces)",
    r"^\$": "a JSON path such as $.state",
}


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest of ``choices`` to a misspelt ``word``, if one is close enough."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def describe(value: Any) -> str:
    """How a found value reads in a message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(value, 60)


# ------------------------------------------------------------------ type walking
def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` wrappers."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        members = _union_members(tp)
        if members is not None and len(members) == 1:
            tp = members[0]
            continue
        return tp


def _union_members(tp: Any) -> list[Any] | None:
    if get_origin(tp) in (Union, types.UnionType):
        return [a for a in get_args(tp) if a is not type(None)]
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _field_info(model: type[BaseModel] | None, key: str) -> str | None:
    if model is None:
        return None
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.description
    return None


def model_keys(model: type[BaseModel]) -> list[str]:
    """The keys a scenario file may use for ``model`` (aliases, not Python names)."""
    return [
        info.alias or name
        for name, info in model.model_fields.items()
        if not (issubclass(model, Scenario) and name == "source")
    ]


_TAG_KEYS = ("type", "engine")  # the discriminators: fault and condition types, stack engines


def _branch(members: list[Any], tag: PathPart) -> tuple[Any, str]:
    """The union member a pydantic tag names, and its kind: model, tagged or scalar."""
    for member in members:
        m = _unwrap(member)
        if _is_model(m):
            if tag == m.__name__:
                return m, "model"
            for key in _TAG_KEYS:
                kind = m.model_fields.get(key)
                if kind is not None and tag in get_args(kind.annotation):
                    return m, "tagged"
    return None, "scalar"


@dataclass(frozen=True)
class _Where:
    """A pydantic location, translated."""

    path: tuple[PathPart, ...]  # as written in the file
    branch: str | None  # kind of the last smart-union branch passed: model or scalar
    branch_at: tuple[PathPart, ...]  # path of that union
    branch_final: bool  # the location ends at the branch itself
    container: type[BaseModel] | None  # model that owns the last key


def _translate_loc(loc: tuple[int | str, ...], model: type[Scenario]) -> _Where:
    tp: Any = model
    path: list[PathPart] = []
    branch: str | None = None
    branch_at: tuple[PathPart, ...] = ()
    branch_final = False
    container: type[BaseModel] | None = None
    for i, part in enumerate(loc):
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members is not None:
            # A smart or tagged union always inserts the branch's name here.
            tp, kind = _branch(members, part)
            if kind != "tagged":
                branch, branch_at, branch_final = kind, tuple(path), i == len(loc) - 1
            continue
        container = tp if _is_model(tp) else None
        path.append(part)
        if isinstance(part, int):
            tp = get_args(tp)[0] if get_origin(tp) is list else None
        elif container is not None:
            tp = _field(container, part)
        else:
            tp = None
    return _Where(tuple(path), branch, branch_at, branch_final, container)


def _value_at(data: Any, path: tuple[PathPart, ...]) -> tuple[bool, Any]:
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return False, None
        data = data[part]
    return True, data


# ------------------------------------------------------------------ messages
@dataclass
class _Text:
    message: str = ""
    expected: str | None = None
    found: str | None = None
    suggestion: str | None = None
    at_key: bool = False
    extra_path: tuple[PathPart, ...] = ()

    def render(self) -> str:
        if self.expected is not None:
            return f"expected {self.expected}, found {self.found}"
        return self.message


_SIMPLE = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}
_BOUNDS = {
    "greater_than": ("gt", "a value above {}"),
    "greater_than_equal": ("ge", "a value of at least {}"),
    "less_than": ("lt", "a value below {}"),
    "less_than_equal": ("le", "a value of at most {}"),
}


def _literal_choices(expected: str) -> list[str]:
    quoted = re.findall(r"'([^']*)'", expected)
    return quoted or re.findall(r"[^\s,]+", expected.replace(" or ", ","))


def _text(err: ErrorDetails, where: _Where, found: Any, tags: _Tags) -> _Text:
    ctx = err.get("ctx") or {}
    return (
        _key_text(err["type"], where)
        or _union_text(err["type"], where, ctx, found, tags)
        or _value_text(err, ctx, found)
    )


def _key_text(kind: str, where: _Where) -> _Text | None:
    """A key that is missing or not known here."""
    if kind == "missing":
        key = str(where.path[-1])
        info = _field_info(where.container, key)
        about = f" ({info})" if info else ""
        return _Text(message=f"missing required key {key!r}{about}")
    if kind == "extra_forbidden":
        key = str(where.path[-1])
        allowed = model_keys(where.container) if where.container else []
        listed = f"; expected one of: {', '.join(sorted(allowed))}" if allowed else ""
        return _Text(
            message=f"unknown key {key!r}{listed}",
            suggestion=suggest(key, allowed),
            at_key=True,
        )
    return None


def _union_text(
    kind: str, where: _Where, ctx: dict[str, Any], found: Any, tags: _Tags
) -> _Text | None:
    """A bad tag of the three tagged unions: stack engines, abort condition types
    (harness/scenario/guards.py) and fault types."""
    key, what, names = (
        ("engine", "engine", tags.engines)
        if where.path == ("stack",)
        else ("type", "condition type", ABORT_TYPES)
        if where.path[:1] == ("abort",)
        else ("type", "fault type", tags.faults)
    )
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", found))
        return _Text(
            message=f"unknown {what} {tag!r}; expected one of: {', '.join(names)}",
            suggestion=suggest(tag, names),
            extra_path=(key,),
        )
    if kind == "union_tag_not_found":
        return _Text(
            message=f"missing required key {key!r}; expected one of: {', '.join(names)}",
            extra_path=(key,),
        )
    return None


def _value_text(err: ErrorDetails, ctx: dict[str, Any], found: Any) -> _Text:
    """A value of the wrong kind, out of its bounds or refused by a validator."""
    kind = err["type"]
    shown = describe(found)
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        choices = _literal_choices(expected)
        return _Text(
            expected=expected,
            found=shown,
            suggestion=suggest(found, choices) if isinstance(found, str) else None,
        )
    if kind in _SIMPLE:
        return _Text(expected=_SIMPLE[kind], found=shown)
    if kind in _BOUNDS:
        key, phrase = _BOUNDS[kind]
        bound = ctx.get(key)
        shown_bound = f"{bound:g}" if isinstance(bound, float) else str(bound)
        return _Text(expected=phrase.format(shown_bound), found=shown)
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _Text(expected=_PATTERNS.get(pattern, f"text matching {pattern}"), found=shown)
    if kind in ("string_too_short", "too_short"):
        return _Text(expected="a non-empty value", found=shown)
    if kind == "finite_number":
        return _Text(expected="a finite number", found=shown)
    if kind in ("string_too_long", "too_long"):
        # Never echo the (long) value itself: say how long it is against the limit.
        what = "characters" if kind == "string_too_long" else "items"
        length = len(found) if isinstance(found, str | list | dict) else ctx.get("actual_length")
        return _Text(expected=f"at most {ctx.get('max_length')} {what}", found=f"{length} {what}")
    if kind == "value_error":
        return _Text(message=str(err["msg"]).removeprefix("Value error, "))
    return _Text(message=f"{err['msg']}; found {shown}")


# ------------------------------------------------------------------ entry point
@dataclass(frozen=True)
class _Tags:
    """The tags of the model's tagged unions."""

    faults: tuple[str, ...]
    engines: tuple[str, ...]


def _tags(model: type[Scenario]) -> _Tags:
    specs = fault_specs(model)
    return _Tags(
        faults=tuple(
            s.fault_type() for s in specs if s is not FaultBase and "type" in s.model_fields
        ),
        engines=tuple(s.engine_name() for s in model.stack_models),
    )


def explain(
    exc: ValidationError, data: Any, smap: SourceMap, model: type[Scenario]
) -> list[Problem]:
    """Every error of ``exc`` (raised by ``model``) as a located problem, union noise removed."""
    tags = _tags(model)
    texts: dict[tuple[PathPart, ...], list[tuple[_Text, _Where]]] = {}
    for err in exc.errors(include_url=False):
        where = _translate_loc(tuple(err["loc"]), model)
        if where.branch is not None and not _branch_applies(where, data):
            continue
        known, found = _value_at(data, where.path)
        text = _text(err, where, found if known else err.get("input"), tags)
        texts.setdefault(where.path + text.extra_path, []).append((text, where))
    problems = [_merge(path, group, smap) for path, group in texts.items()]
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.path, p.message))


def _branch_applies(where: _Where, data: Any) -> bool:
    """Keep only the errors of the union branch that fits what was written."""
    _, written = _value_at(data, where.branch_at)
    is_mapping = isinstance(written, dict)
    if where.branch_final:
        # A type mismatch at the branch itself: wrong unless the other branch is the model.
        return not (is_mapping and where.branch == "scalar")
    return is_mapping if where.branch == "model" else not is_mapping


def _merge(
    path: tuple[PathPart, ...], group: list[tuple[_Text, _Where]], smap: SourceMap
) -> Problem:
    texts = [t for t, _ in group]
    suggestion = next((t.suggestion for t in texts if t.suggestion), None)
    expected = [t.expected for t in texts if t.expected is not None]
    if len(texts) > 1 and len(expected) == len(texts):
        # Several union branches rejected one value: say what each would accept.
        message = f"expected {' or '.join(dict.fromkeys(expected))}, found {texts[0].found}"
    else:
        message = "; ".join(dict.fromkeys(t.render() for t in texts))
    return smap.problem(path, message, at_key=texts[0].at_key, suggestion=suggestion)
