"""Generate docs/scenarios.md from the models, so the reference cannot drift.

The fault types come from the concrete Scenario model passed in, so each fault
plugin's docstrings and field descriptions are its documentation. Run
``python -m harness.faults.catalog > docs/scenarios.md`` after changing a model;
a unit test fails while the committed file differs from this output.
"""

from __future__ import annotations

import inspect
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, JsonValue
from pydantic.fields import FieldInfo

from harness.scenario import consistency as c
from harness.scenario import experiment as x
from harness.scenario import guards as g
from harness.scenario import httpspec as h
from harness.scenario import models as m
from harness.scenario.units import parse_duration, parse_fraction, parse_size

EXAMPLE = """\
# yaml-language-server: $schema=scenario.schema.json   (from `hachaos schema`)
version: 1
name: kill-one-app-replica
description: Kill one of three app replicas; the load balancer must hide it.
tags: [smoke, ha]
seed: 42

stack:
  compose: ../compose/web-ha/compose.yaml   # relative to this file
  target: {service: lb, port: 8080}         # or a URL on 127.0.0.1
  ready_timeout: 2m

load:
  model: open          # open: fixed arrival rate; closed: N looping users
  rps: 40
  timeout: 2s          # a timeout counts as a failure
  mix: {read: 70, write: 20, read_item: 10}

timing:
  warmup: 5s           # t = 0 is the end of the warmup
  duration: 60s
  cooldown: 10s

faults:
  - type: kill
    target: {service: app, count: 1, pick: random}
    at: 15s
    for: 10s
  - type: pause
    name: chaos-monkey
    target: {service: app, percent: 34%}
    at: 35s
    for: 2s
    repeat: 2
    every: 10s
    jitter: 1s

checks:
  availability:
    overall: 99%
    after_recovery: 99.9%
  latency:
    - {percentile: 99, max: 500ms}
  recovery:
    max: 15s
  max_failure_span: 5s

report:
  formats: [html, md, json, junit]
  dir: reports
"""

_SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Top level", m.Scenario),  # replaced by the concrete model given to render()
    ("stack", m.StackBase),  # followed by each engine's own keys
    ("stack.target as {service, port}", m.ServicePort),
    ("stack.variants[]", x.Variant),
    ("load", m.Load),
    ("load.stages[]", m.Stage),
    ("load.mix", m.Mix),
    ("load.requests[]", h.RequestSpec),
    ("timing", m.Timing),
    ("faults[].target", m.Selector),
    ("checks", m.Checks),
    ("checks.availability", m.AvailabilityChecks),
    ("checks.latency[]", m.LatencyCheck),
    ("checks.recovery", m.RecoveryChecks),
    ("checks.durability", m.DurabilityCheck),
    ("checks.durability.write", h.DurableWrite),
    ("checks.durability.read", h.DurableRead),
    ("checks.durability.lookup", h.DurableLookup),
    ("checks.consistency", c.ConsistencyCheck),
    ("checks.consistency.read", c.ConsistencyRead),
    ("checks.consistency.write / append", c.ConsistencyOp),
    ("checks.consistency.cas", c.ConsistencyCas),
    ("checks.consistency.mix", c.ConsistencyMix),
    ("checks.consistency.final_reads", c.FinalReads),
    ("report", m.ReportConfig),
    ("abort", g.Abort),
    ("abort.conditions[] `type: availability`", g.AvailabilityBelow),
    ("abort.conditions[] `type: error_rate`", g.ErrorRateAbove),
    ("abort.conditions[] `type: p99`", g.P99Above),
    ("abort.conditions[] `type: probe`", g.ProbeFails),
    ("abort.conditions[] `type: command`", g.CommandFails),
    ("steady_state", g.SteadyState),
    ("steady_state.probes[]", g.SteadyProbe),
    ("steady_state.probes[].json", g.JsonExpect),
    ("experiment", x.Experiment),
    ("experiment.capacity", x.Capacity),
    ("experiment.scaling", x.Scaling),
)


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


_UNITS = ((parse_duration, "duration"), (parse_fraction, "percentage"), (parse_size, "size"))


def _unit(metadata: list[Any]) -> str | None:
    for item in metadata:
        if isinstance(item, BeforeValidator):
            for func, name in _UNITS:
                if item.func is func:
                    return name
    return None


def type_name(tp: Any, metadata: list[Any] | None = None) -> str:
    """A field's type as the reference shows it."""
    unit = _unit(metadata or [])
    if unit:
        return unit
    origin = get_origin(tp)
    if origin is Annotated:
        return type_name(get_args(tp)[0], list(get_args(tp)[1:]))
    if origin in (Union, types.UnionType):
        if all(isinstance(a, type) and issubclass(a, m.FaultBase) for a in get_args(tp)):
            return "[fault](#faults)"
        if all(issubclass(_unwrapped(a), m.StackBase) for a in get_args(tp)):
            return f"[stack](#{_anchor(m.StackBase)})"
        names = [type_name(a) for a in get_args(tp) if a is not type(None)]
        return " or ".join(names)
    if origin is Literal:
        return " \\| ".join(f"`{v}`" for v in get_args(tp))
    if origin is list:
        return f"list of {type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"map of {type_name(get_args(tp)[0])} to {type_name(get_args(tp)[1])}"
    if tp is JsonValue:
        return "JSON value"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{tp.__name__}](#{_anchor(tp)})"
    return {int: "integer", float: "number", str: "text", bool: "boolean"}.get(tp, str(tp))


def _default(info: FieldInfo, kind: str) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and kind == "duration":
        return f"`{value:g}s`"
    if isinstance(value, float) and kind == "percentage":
        return f"`{value * 100:g}%`"
    if isinstance(value, list):
        return f"`[{', '.join(map(str, value))}]`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def _rows(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> list[str]:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        if name in skip or info.exclude:
            continue
        kind = type_name(info.annotation, list(info.metadata))
        about = (info.description or "").replace("|", "\\|")
        key = info.alias or name
        lines.append(f"| `{key}` | {kind} | {_default(info, kind)} | {about} |")
    return lines


def _unwrapped(tp: Any) -> type:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp if isinstance(tp, type) else type(None)


def _stacks(stacks: tuple[type[m.StackBase], ...]) -> list[str]:
    """The `engine` key, then the keys each engine adds (from the engine registry)."""
    engines = " \\| ".join(f"`{s.engine_name()}`" for s in stacks)
    default = next(
        (f'`"{s.engine_name()}"`' for s in stacks if not s.model_fields["engine"].is_required()),
        "**required**",
    )
    out = [f"| `engine` | {engines} | {default} | which engine runs the stack (below) |"]
    base = m.StackBase.model_fields
    for stack in stacks:
        own = frozenset(n for n in stack.model_fields if n in base or n == "engine")
        out += ["", f'<a id="{_anchor(stack)}"></a>', f"### `engine: {stack.engine_name()}`"]
        out += ["", _doc(stack), "", *_rows(stack, skip=own)]
    return out


def _doc(model: type[BaseModel]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _own_fields(cls: type[m.FaultBase]) -> dict[str, FieldInfo]:
    """Keys a fault type adds to (or redefines from) the common ones, except `type`."""
    base = m.FaultBase.model_fields
    return {
        n: i
        for n, i in cls.model_fields.items()
        if n != "type" and (n not in base or i.description != base[n].description)
    }


def _faults(specs: tuple[type[m.FaultBase], ...]) -> list[str]:
    common = _rows(m.FaultBase)
    common.insert(2, "| `type` | see below | **required** | what the fault does |")
    out = [
        '<a id="faults"></a>',
        "## faults[]",
        "",
        "Every fault has these keys; `type` picks one of the fault types below.",
        "A windowed fault is applied at `at`, held for `for` (or until `until`), then",
        "reverted. An instant fault happens at `at` and heals by itself (no `for`).",
        "`repeat` > 1 needs `every`; each occurrence is shifted by a seeded random",
        "offset in [-jitter, +jitter] (a `latency` fault's `jitter` is its delay's,",
        "so latency occurrences are never shifted).",
        "",
        *common,
        "",
        "### Fault types",
        "",
        "| type | kind | what it does | extra keys |",
        "|---|---|---|---|",
    ]
    for cls in specs:
        tag = cls.fault_type()
        extra = [f"`{i.alias or n}`" for n, i in _own_fields(cls).items()]
        kind = "instant" if cls.instant else "windowed"
        summary = _doc(cls).replace("\n", " ")
        out.append(f"| `{tag}` | {kind} | {summary} | {', '.join(extra) or '—'} |")
    for cls in specs:
        tag = cls.fault_type()
        own = _own_fields(cls)
        if not own:
            continue
        out += ["", f'<a id="{_anchor(cls)}"></a>', f"### `{tag}` keys", ""]
        out += _rows(cls, skip=frozenset(cls.model_fields) - set(own))
    return out


def render(scenario: type[m.Scenario]) -> str:
    """The whole Markdown reference of ``scenario``, a concrete model with its fault types."""
    out = [
        "# Scenario file reference (`version: 1`)",
        "",
        "<!-- Generated: `python -m harness.faults.catalog > docs/scenarios.md`."
        " Do not edit by hand; tests/unit/scenario/test_docgen.py fails on drift. -->",
        "",
        "A scenario is one YAML file: the Compose stack under test, the load, the",
        "timing, a schedule of faults and the checks (SLOs) the run must meet.",
        "Check it with `hachaos validate FILE`, preview its timeline with",
        "`hachaos plan FILE`, and get a JSON Schema for your editor with `hachaos schema`.",
        "",
        "- Unknown keys are errors, and every problem is reported at once with",
        "  `file:line:column`, the YAML path, what was expected and what was found.",
        "- **Durations** are `500ms`, `10s`, `2m`, `1h` or a number of seconds.",
        "- **Percentages** are `99.5%` or `0.995`.",
        "- **Sizes** are `256MiB`, `1GiB`, `500MB` or a number of bytes.",
        "- **Limits**: numbers must be finite (`.nan` and `.inf` are errors); a duration",
        "  and a whole run (warmup + duration + cooldown) last at most 24h; a size is at",
        "  most 1TiB (`memory` at most 64GiB); at most 100 faults and 1000 fault",
        "  occurrences (repeats included), `repeat` ≤ 1000, 10000 users, 100000",
        "  requests/s, 64 processes, 100 stages; names at most 100 characters, text and",
        "  paths 4096. The file itself is at most 1 MiB, and its YAML aliases may expand",
        "  to at most 100000 nodes. Each error states the limit it hit.",
        "- **Time** `t = 0` is the end of the warmup. Load runs from `-warmup` to",
        "  `duration + cooldown`; every fault must lie inside `[0, duration]`.",
        "- **Selectors** pick replicas by compose container number (1-based).",
        "  `count` takes that many; `percent` rounds up (34% of 3 is 2, and 0% is an",
        "  error); `all: true` or `pick: all` take every replica; `index` takes one;",
        "  with none of these, one replica. `pick: random` draws with the seed,",
        "  `pick: first` takes the lowest numbers.",
        "- **Overlaps**: two faults may not hit the same container at the same time",
        "  unless one of them sets `allow_overlap: true`.",
        "- **Seed**: the same seed gives the same plan; each fault occurrence draws",
        "  from its own generator, so editing one fault never reshuffles another.",
        "",
        "## Example",
        "",
        "```yaml",
        EXAMPLE.rstrip("\n"),
        "```",
    ]
    for title, section in _SECTIONS:
        model = scenario if section is m.Scenario else section
        out += ["", f'<a id="{_anchor(model)}"></a>', f"## {title}", "", _doc(model), ""]
        out += _rows(model)
        if model is m.StackBase:
            out += _stacks(scenario.stack_models)
        if model is m.Timing:
            out += ["", *_faults(m.fault_specs(scenario))]
    return "\n".join(out) + "\n"
