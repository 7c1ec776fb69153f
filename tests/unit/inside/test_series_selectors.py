"""stack.metrics series selectors: names with PromQL label matchers."""

from __future__ import annotations

import pytest

from harness.scenario.series import Matcher, parse_selector


def test_a_name_alone_matches_every_label_set() -> None:
    sel = parse_selector("up")
    assert sel.name == "up" and sel.matchers == ()
    assert sel.matches("up", {"job": "x"})
    assert not sel.matches("down", {})


def test_every_matcher_kind() -> None:
    sel = parse_selector('status{proxy="app", state=~"UP|DOWN",server!="b",x!~"y.*"}')
    assert sel.matchers == (
        Matcher("proxy", "=", "app"),
        Matcher("state", "=~", "UP|DOWN"),
        Matcher("server", "!=", "b"),
        Matcher("x", "!~", "y.*"),
    )
    ok = {"proxy": "app", "state": "UP", "server": "a", "x": "z"}
    assert sel.matches("status", ok)
    assert not sel.matches("status", {**ok, "state": "UPX"})  # whole value
    assert not sel.matches("status", {**ok, "server": "b"})
    assert not sel.matches("status", {**ok, "x": "yes"})
    assert not sel.matches("status", {**ok, "proxy": "web"})


def test_a_missing_label_is_the_empty_string_as_in_promql() -> None:
    assert parse_selector('m{a=""}').matches("m", {})
    assert not parse_selector('m{a="1"}').matches("m", {})


def test_escaped_quotes_in_values() -> None:
    (m,) = parse_selector(r'm{path="/a\"b"}').matchers
    assert m.value == '/a"b'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("9bad", "not a series selector"),
        ("m{a=1}", "bad label matcher"),
        ('m{a="x" b="y"}', "bad label matcher"),
        ('m{a=~"("}', "bad regular expression"),
        ("m" * 600, "at most 512"),
    ],
)
def test_bad_selectors_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_selector(text)
