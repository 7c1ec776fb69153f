"""Scenario models of the run's guards: stop conditions (``abort``) and ``steady_state`` probes.

Kept apart from :mod:`harness.scenario.models` (which imports them) so the
fault and check models stay as they are. The base config is the same as
``models.Strict``: unknown keys are errors, values are frozen and finite.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from harness.scenario.base import Strict
from harness.scenario.templates import TemplateError, parse_json_path
from harness.scenario.units import Duration, Fraction

MAX_NAME = 100
MAX_TEXT = 4096
MAX_CONDITIONS = 16
MAX_PROBES = 16
MAX_ARGV = 64
MAX_STATUSES = 32
JSON_SCALAR_MAX = 1024  # length of an expected JSON string value


class _Endpoint(Strict):
    """Where a probe goes: the load's target, or another published port of the run's stack."""

    service: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        description="compose service of the run's stack; default: the load's target",
    )
    port: int | None = Field(
        default=None, ge=1, le=65535, description="its container port (with `service`)"
    )
    path: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        pattern=r"^/[^\s#]*$",
        description="HTTP path (and query), starting with /",
    )
    timeout: Duration = Field(default=1.0, gt=0, le=10, description="HTTP timeout of one probe")

    @model_validator(mode="after")
    def _service_and_port(self) -> _Endpoint:
        if (self.service is None) != (self.port is None):
            raise ValueError("give `service` and `port` together (or neither: the load's target)")
        return self


# --------------------------------------------------------------------------- abort
class _Windowed(Strict):
    over: Duration = Field(gt=0, le=600, description="window length, ending at each instant")
    min_requests: int = Field(
        default=10,
        ge=1,
        le=1_000_000,
        description="a window with fewer requests is not judged",
    )


class AvailabilityBelow(_Windowed):
    """Abort when the share of successful requests over the window drops below ``below``."""

    type: Literal["availability"] = Field(description="the condition kind")
    below: Fraction = Field(description="e.g. 50%")


class ErrorRateAbove(_Windowed):
    """Abort when the share of failed requests over the window rises above ``above``."""

    type: Literal["error_rate"] = Field(description="the condition kind")
    above: Fraction = Field(description="e.g. 20%")


class P99Above(_Windowed):
    """Abort when the p99 latency of the window's answered requests exceeds ``above``."""

    type: Literal["p99"] = Field(description="the condition kind")
    above: Duration = Field(gt=0, description="e.g. 2s")


class ProbeFails(_Endpoint):
    """Abort when an HTTP probe fails ``failures`` times in a row."""

    type: Literal["probe"] = Field(description="the condition kind")
    expect: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=lambda: [200],
        min_length=1,
        max_length=MAX_STATUSES,
        description="statuses that count as success",
    )
    every: Duration = Field(default=1.0, ge=0.2, le=600, description="period between probes")
    failures: int = Field(default=3, ge=1, le=1000, description="consecutive failures that abort")


class CommandFails(Strict):
    """Abort when a command exits non-zero (or times out) ``failures`` times in a row."""

    type: Literal["command"] = Field(description="the condition kind")
    argv: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]] = Field(
        min_length=1,
        max_length=MAX_ARGV,
        description="program and arguments, run without a shell (cwd: the scenario's folder)",
    )
    timeout: Duration = Field(default=5.0, gt=0, le=300, description="a longer run is a failure")
    every: Duration = Field(default=5.0, ge=0.5, le=600, description="period between runs")
    failures: int = Field(default=1, ge=1, le=1000, description="consecutive failures that abort")


AbortCondition = Annotated[
    AvailabilityBelow | ErrorRateAbove | P99Above | ProbeFails | CommandFails,
    Field(discriminator="type"),
]


ABORT_TYPES = ("availability", "error_rate", "p99", "probe", "command")


class Abort(Strict):
    """Stop conditions, evaluated live from t = 0 to the end of ``duration``.

    When one holds, every active fault is reverted at once, the faults still to
    come are cancelled, and the load runs on for ``timing.cooldown`` so the
    recovery is still measured. The verdict is ``aborted`` (exit 1).
    """

    conditions: list[AbortCondition] = Field(
        min_length=1, max_length=MAX_CONDITIONS, description="any one that holds aborts the run"
    )


# --------------------------------------------------------------------------- steady state
JsonScalar = Annotated[str, Field(max_length=JSON_SCALAR_MAX)] | bool | int | float | None


class JsonExpect(Strict):
    """A value in the JSON answer: the value at ``path`` must equal ``equals``."""

    path: str = Field(
        min_length=1,
        max_length=MAX_TEXT,
        pattern=r"^\$",
        description="JSON path, e.g. $.state or $.jobs[0].state (the subset of load.requests)",
    )
    equals: JsonScalar = Field(description="expected value (string, number, boolean or null)")

    @field_validator("path")
    @classmethod
    def _parses(cls, path: str) -> str:
        try:
            parse_json_path(path)
        except TemplateError as exc:
            raise ValueError(str(exc)) from exc
        return path


class SteadyProbe(_Endpoint):
    """One steady-state check: a GET whose status, JSON value and latency must hold."""

    name: str | None = Field(
        default=None, max_length=MAX_NAME, description="label in reports; default: the path"
    )
    status: list[Annotated[int, Field(ge=100, le=599)]] = Field(
        default_factory=lambda: [200],
        min_length=1,
        max_length=MAX_STATUSES,
        description="accepted statuses",
    )
    json_: JsonExpect | None = Field(
        default=None, alias="json", description="a value the JSON body must hold"
    )
    max_latency: Duration | None = Field(
        default=None, gt=0, le=60, description="the answer must come within this"
    )

    @property
    def label(self) -> str:
        return self.name or self.path


class SteadyState(Strict):
    """Checks that must hold before the first fault (after warmup) and at the end of cooldown.

    Not steady before: nothing is injected, verdict ``error`` (exit 3). Not
    steady at the end: a failed check (exit 1).
    """

    probes: list[SteadyProbe] = Field(
        min_length=1, max_length=MAX_PROBES, description="every one must hold"
    )
