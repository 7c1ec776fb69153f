"""Series selectors of ``stack.metrics[].series``: a metric name with PromQL label matchers.

``haproxy_backend_active_servers{proxy="app"}``, ``up``, ``http_requests_total{code=~"5..",
method!="GET"}``: the name, then optional matchers ``label OP "value"`` with OP one of
``=``, ``!=``, ``=~``, ``!~`` (regular expressions match the whole value, as in PromQL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_SELECTOR = 512
MAX_MATCHERS = 16
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SELECTOR_RE = re.compile(rf"^\s*({_NAME})\s*(?:\{{(.*)\}})?\s*$", re.S)
_MATCHER_RE = re.compile(
    r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)'
)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.label, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class SeriesSelector:
    """A parsed selector; ``text`` is how the scenario wrote it."""

    text: str
    name: str
    matchers: tuple[Matcher, ...]

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        return name == self.name and all(m.matches(labels) for m in self.matchers)


def parse_selector(text: str) -> SeriesSelector:
    """Parse a selector; ValueError says what is wrong."""
    if len(text) > MAX_SELECTOR:
        raise ValueError(f"a series selector is at most {MAX_SELECTOR} characters")
    m = _SELECTOR_RE.match(text)
    if m is None:
        raise ValueError(
            f"{text!r} is not a series selector: write a metric name, optionally with label "
            'matchers, e.g. haproxy_backend_active_servers{proxy="app"}'
        )
    name, body = m.group(1), (m.group(2) or "").strip()
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(body):
        mm = _MATCHER_RE.match(body, pos)
        if mm is None:
            raise ValueError(
                f"bad label matcher in {text!r} at {body[pos:][:30]!r}: write "
                'label="value" (or !=, =~, !~), separated by commas'
            )
        label, op, raw = mm.group(1), mm.group(2), mm.group(3)
        value = re.sub(r"\\(.)", r"\1", raw)
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r} in {text!r}: {exc}") from exc
        matchers.append(Matcher(label, op, value))
        pos = mm.end()
        if len(matchers) > MAX_MATCHERS:
            raise ValueError(f"at most {MAX_MATCHERS} label matchers per selector")
    return SeriesSelector(text.strip(), name, tuple(matchers))
