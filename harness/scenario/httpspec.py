"""Scenario models of declarative HTTP requests: ``load.requests`` and the generic durability check.

Kept apart from models.py (which imports these) so the request language stays
in one place; placeholders and JSON paths are parsed by
:mod:`harness.scenario.templates` when the file is validated, so a run never
starts with a template it cannot fill.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from harness.scenario.base import Strict
from harness.scenario.templates import (
    CAPTURED_PREFIX,
    REQUEST_NAMES,
    TemplateError,
    body_strings,
    capture_name_problem,
    check_template,
    parse_json_path,
    placeholders,
)

MAX_REQUESTS = 32
MAX_HEADERS = 32
MAX_FORM = 64
MAX_CAPTURES = 8
MAX_COMPARE = 16
MAX_STATUSES = 32
MAX_WEIGHT = 1_000_000.0

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
Status = Annotated[int, Field(ge=100, le=599)]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")]
# printable ASCII and tabs only: a value can never end a header line early
HeaderValue = Annotated[str, Field(max_length=1024, pattern=r"^[\t\x20-\x7e]*$")]
FormKey = Annotated[str, Field(min_length=1, max_length=100)]
FormValue = Annotated[str, Field(max_length=1024)]
PathTemplate = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^/[\x21-\x7e]*$")]
JsonPathText = Annotated[str, Field(min_length=1, max_length=256)]


def _json_path(text: str) -> str:
    try:
        parse_json_path(text)
    except TemplateError as exc:
        raise ValueError(str(exc)) from exc
    return text


def _templates(model: Any) -> list[str]:
    texts = [model.path, *model.headers.values()]
    texts += list((getattr(model, "form", None) or {}).values())
    body = getattr(model, "json_", None)
    if body is not None:
        texts += body_strings(body)
    return texts


class _Call(Strict):
    """What every templated request has: a path and headers, placeholders checked."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = REQUEST_NAMES

    path: PathTemplate = Field(description="path template on the target, e.g. /api/orders/{seq}")
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict, max_length=MAX_HEADERS, description="header templates"
    )

    @model_validator(mode="after")
    def _placeholders(self) -> _Call:
        try:
            for text in _templates(self):
                # captured names are checked by the load, which knows every capture
                check_template(text, self.PLACEHOLDERS, None)
        except TemplateError as exc:
            raise ValueError(str(exc)) from exc
        return self


class _Sent(_Call):
    """A request that may carry a body."""

    method: Method = Field(default="GET", description="HTTP method")
    json_: JsonValue | None = Field(
        default=None,
        alias="json",
        description="JSON body template; placeholders are replaced in every string",
    )
    form: dict[FormKey, FormValue] | None = Field(
        default=None, max_length=MAX_FORM, description="form body (urlencoded) templates"
    )
    expect: list[Status] | None = Field(
        default=None,
        max_length=MAX_STATUSES,
        description="statuses that succeed; none = any 2xx or 3xx",
    )

    @model_validator(mode="after")
    def _one_body(self) -> _Sent:
        if self.json_ is not None and self.form is not None:
            raise ValueError("give either `json` or `form` as the body, not both")
        if self.method in ("GET", "HEAD") and (self.json_ is not None or self.form is not None):
            raise ValueError(f"a {self.method} request carries no body; drop `json`/`form`")
        if self.json_ is not None:
            try:
                body_strings(self.json_)
            except TemplateError as exc:
                raise ValueError(str(exc)) from exc
        return self


class RequestSpec(_Sent):
    """One declarative request of ``load.requests``.

    Placeholders: ``{seq}`` (a counter per load process), ``{uuid}``, ``{run_id}``
    and ``{captured.<name>}`` (a value an earlier response gave, see ``capture``).
    A status outside ``expect`` counts as a failure: 4xx and 5xx keep their
    classes, any other status is ``unexpected_status``.
    """

    PLACEHOLDERS: ClassVar[frozenset[str]] = REQUEST_NAMES | {"captured"}

    name: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[\x20-\x7e]+$",
        description="label in reports; default the path template",
    )
    weight: float = Field(default=1.0, gt=0, le=MAX_WEIGHT, description="relative frequency")
    capture: dict[str, JsonPathText] = Field(
        default_factory=dict,
        max_length=MAX_CAPTURES,
        description="name: JSON path of a value to keep from successful responses",
    )

    @field_validator("capture")
    @classmethod
    def _captures(cls, capture: dict[str, str]) -> dict[str, str]:
        for name, path in capture.items():
            problem = capture_name_problem(name)
            if problem:
                raise ValueError(problem)
            _json_path(path)
        return capture

    def label(self) -> str:
        """The request's name in reports."""
        return self.name or self.path

    def needs(self) -> set[str]:
        """The captures its templates use."""
        used = {n for text in _templates(self) for n in placeholders(text)}
        return {n.removeprefix(CAPTURED_PREFIX) for n in used if n.startswith(CAPTURED_PREFIX)}


def requests_problem(requests: list[RequestSpec]) -> str | None:
    """Why a ``load.requests`` list cannot run, or None (captures and fallbacks)."""
    captured = {name for r in requests for name in r.capture}
    for i, request in enumerate(requests):
        missing = sorted(request.needs() - captured)
        if missing:
            return (
                f"requests[{i}] uses {{captured.{missing[0]}}} but no request captures"
                f" {missing[0]!r}; add `capture: {{{missing[0]}: $.id}}` to the request"
                " whose response holds it"
            )
    if requests and all(r.needs() for r in requests):
        return (
            "every request needs a captured value, so none can be sent first; add one"
            " that needs none (e.g. the POST that creates what the others read)"
        )
    return None


# --------------------------------------------------------------------------- durability
class DurableWrite(_Sent):
    """The write of the generic durability check, sent as part of the load.

    ``{key}`` is a value unique across the run that hachaos generates for each
    write; put it in the body (or the path) so the read-back can compare it,
    and so a write that timed out can be looked up by it. Also ``{seq}``,
    ``{uuid}``, ``{run_id}``.
    """

    PLACEHOLDERS: ClassVar[frozenset[str]] = REQUEST_NAMES | {"key"}

    method: Method = Field(default="POST", description="HTTP method")
    name: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[\x20-\x7e]+$",
        description="label in reports; default the path template",
    )
    weight: float = Field(
        default=1.0, gt=0, le=MAX_WEIGHT, description="relative frequency among load.requests"
    )

    def label(self) -> str:
        """The write's name in reports."""
        return self.name or self.path


class DurableRead(_Call):
    """How one acknowledged write is read back: ``{id}`` is its captured id, ``{key}`` its key."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = frozenset({"id", "key", "run_id"})

    expect: list[Status] = Field(
        default_factory=lambda: [200],
        min_length=1,
        max_length=MAX_STATUSES,
        description="statuses of a found write (then compared)",
    )
    missing: list[Status] = Field(
        default_factory=lambda: [404, 410],
        max_length=MAX_STATUSES,
        description="statuses that mean the write is gone (lost)",
    )

    @model_validator(mode="after")
    def _disjoint(self) -> DurableRead:
        both = sorted(set(self.expect) & set(self.missing))
        if both:
            raise ValueError(f"status {both[0]} is in both `expect` and `missing`")
        return self


class DurableLookup(DurableRead):
    """How a write that timed out (no id) is looked up by its ``{key}``."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = frozenset({"key", "run_id"})

    missing: list[Status] = Field(
        default_factory=lambda: [404],
        max_length=MAX_STATUSES,
        description="statuses that mean the write did not land",
    )


def compare_problem(compare: dict[str, str]) -> str | None:
    """Why a ``compare`` map is invalid, or None."""
    try:
        for path, template in compare.items():
            parse_json_path(path)
            check_template(template, {"id", "key", "run_id"})
    except TemplateError as exc:
        return str(exc)
    return None


def key_only(read: DurableRead) -> bool:
    """Whether a read finds a write by its key alone (then it can look up timed-out writes)."""
    used = {n for text in _templates(read) for n in placeholders(text)}
    return "id" not in used and "key" in used
