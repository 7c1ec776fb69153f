"""Request templates and the strict JSON-path subset: hand-computed values, every refusal."""

from __future__ import annotations

import pytest

from harness.scenario.templates import (
    TemplateError,
    body_strings,
    check_template,
    parse_json_path,
    placeholders,
    render,
    render_body,
    scalar_text,
)


def test_placeholders_in_order_and_escaped_braces_are_literal() -> None:
    assert placeholders("/a/{seq}/{{x}}/{captured.order}") == ["seq", "captured.order"]
    assert render("/a/{seq}/{{x}}", {"seq": "7"}) == "/a/7/{x}"


@pytest.mark.parametrize("text", ["/a{", "/a}", "/{1x}", "/{}", "/{a b}"])
def test_stray_or_malformed_braces_are_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="stray"):
        placeholders(text)


def test_values_in_a_path_are_percent_encoded_so_they_add_no_segment() -> None:
    values = {"captured.id": "../admin?x=1 #"}
    assert render("/o/{captured.id}", values, quote=True) == "/o/..%2Fadmin%3Fx%3D1%20%23"
    assert render("/o/{captured.id}", values) == "/o/../admin?x=1 #"  # headers and bodies


def test_unknown_placeholder_and_unknown_capture_are_named() -> None:
    with pytest.raises(TemplateError, match=r"unknown placeholder \{key\}"):
        check_template("/{key}", {"seq", "uuid"})
    with pytest.raises(TemplateError, match=r"names no capture; the requests capture: a"):
        check_template("/{captured.b}", {"captured"}, ["a"])
    check_template("/{captured.b}", {"captured"}, None)  # checked later, with the list
    with pytest.raises(TemplateError, match="unknown placeholder"):
        check_template("/{captured.b}", {"seq"}, None)  # captures not allowed here


def test_body_templates_replace_in_keys_and_values_and_keep_other_types() -> None:
    body = {"ref": "r-{seq}", "n": 3, "ok": True, "tags": ["{uuid}", None], "{seq}": 1.5}
    out = render_body(body, {"seq": "4", "uuid": "u"})
    assert out == {"ref": "r-4", "n": 3, "ok": True, "tags": ["u", None], "4": 1.5}
    assert sorted(body_strings(body)) == sorted(
        ["ref", "r-{seq}", "n", "ok", "tags", "{uuid}", "{seq}"]
    )


def test_body_bounds() -> None:
    deep: object = "x"
    for _ in range(10):
        deep = [deep]
    with pytest.raises(TemplateError, match="nests at most 8"):
        body_strings(deep)
    with pytest.raises(TemplateError, match="at most 512 values"):
        body_strings(list(range(600)))


def test_json_path_subset_finds_exactly_one_value() -> None:
    doc = {"order": {"id": 12, "lines": [{"sku": "a"}, {"sku": "b"}]}, "odd key": 1}
    assert parse_json_path("$.order.id").find(doc) == (True, 12)
    assert parse_json_path("$.order.lines[1].sku").find(doc) == (True, "b")
    assert parse_json_path("$['odd key']").find(doc) == (True, 1)
    assert parse_json_path("$").find(doc) == (True, doc)
    assert parse_json_path("$.order.lines[2]").find(doc) == (False, None)
    assert parse_json_path("$.order.id.x").find(doc) == (False, None)
    assert parse_json_path("$[0]").find(doc) == (False, None)  # not a list
    assert parse_json_path("$.order.missing").find(None) == (False, None)


@pytest.mark.parametrize(
    ("text", "where"),
    [("$..id", "position 1"), ("$.a[*]", "position 3"), ("$.a[?(@.x)]", "position 3"),
     ("order.id", "starts with `$`"), ("$.a.", "position 3"), ("$[-1]", "position 1")],
)  # fmt: skip
def test_json_path_outside_the_subset_is_refused_with_its_position(text: str, where: str) -> None:
    with pytest.raises(TemplateError, match=where.replace("$", r"\$")):
        parse_json_path(text)


def test_json_path_bounds() -> None:
    with pytest.raises(TemplateError, match="at most 16 steps"):
        parse_json_path("$" + ".a" * 17)
    with pytest.raises(TemplateError, match="at most 256 characters"):
        parse_json_path("$." + "a" * 300)


@pytest.mark.parametrize(
    ("value", "text"),
    [("abc", "abc"), (42, "42"), (True, None), (1.5, None), ({"a": 1}, None), ("", None),
     ("a\r\nX: y", None), ("é", None), ("x" * 257, None), (None, None)],
)  # fmt: skip
def test_only_short_printable_ascii_strings_and_integers_are_captured(
    value: object, text: str | None
) -> None:
    assert scalar_text(value) == text
