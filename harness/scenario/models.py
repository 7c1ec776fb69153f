"""Pydantic models of a scenario file (format ``version: 1``).

Timeline convention: ``t = 0`` is the end of the warmup, when measurement
starts. Load runs from ``-warmup`` to ``duration + cooldown``. A fault's ``at``
is an offset from ``t = 0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from harness.scenario.base import MAX_LIST, MAX_NAME, MAX_RPS, MAX_TEXT, Strict
from harness.scenario.consistency import ConsistencyCheck
from harness.scenario.experiment import (
    MAX_OVERRIDES,
    MAX_VARIANTS,
    Experiment,
    Variant,
    experiment_defaults,
)
from harness.scenario.guards import Abort, SteadyState
from harness.scenario.httpspec import (
    MAX_COMPARE,
    MAX_REQUESTS,
    DurableLookup,
    DurableRead,
    DurableWrite,
    JsonPathText,
    RequestSpec,
    compare_problem,
    requests_problem,
)
from harness.scenario.series import parse_selector
from harness.scenario.units import MAX_DURATION_S, Duration, Fraction
from harness.scenario.workers import LOAD_WORKERS, Workers, workers_model

# More caps (MAX_NAME, MAX_TEXT, MAX_LIST, MAX_RPS live in harness.scenario.base).
MAX_FAULTS = 100
MAX_OCCURRENCES = 1000  # fault occurrences in one run, repeats included
MAX_REPEAT = 1000
MAX_REPLICAS = 1000  # count / index of a selector
MAX_USERS = 10_000
MAX_PROCESSES = 64
MAX_WEIGHT = 1_000_000.0
MAX_SEED = 2**63 - 1


# --------------------------------------------------------------------------- stack
class ServicePort(Strict):
    """A target given as a compose service and its container port."""

    service: str = Field(
        min_length=1, max_length=MAX_NAME, description="compose service that publishes the port"
    )
    port: int = Field(ge=1, le=65535, description="container port; resolved to the host port")
    scheme: Literal["http", "https"] = Field(default="http", description="http or https")


class MetricsEndpoint(Strict):
    """A Prometheus text endpoint of the stack, scraped during the run (docs/metrics.md)."""

    service: str = Field(
        min_length=1, max_length=MAX_NAME, description="the service whose containers serve it"
    )
    port: int = Field(ge=1, le=65535, description="container port")
    path: str = Field(
        default="/metrics",
        max_length=MAX_TEXT,
        pattern=r"^/[\x21-\x7e]*$",
        description="HTTP path (a query is allowed, e.g. /metrics?scope=backend)",
    )
    interval: Duration = Field(
        default=1.0, ge=0.5, le=60.0, description="scrape every this long (0.5 s to 60 s)"
    )
    published: bool = Field(
        default=False,
        description=(
            "scrape the port the engine publishes on 127.0.0.1 instead of each container's "
            "address on the stack's networks (needed where those are not routable, e.g. Swarm "
            "overlays)"
        ),
    )
    series: list[Annotated[str, Field(max_length=512)]] = Field(
        default_factory=list,
        max_length=20,
        description='series to chart and summarise: name{label="value",...} (PromQL matchers)',
    )

    @field_validator("series")
    @classmethod
    def _selectors(cls, series: list[str]) -> list[str]:
        for text in series:
            parse_selector(text)
        return series


class StackBase(Strict):
    """The stack under test. `engine` picks the engine that runs it; each engine adds its
    own keys (below)."""

    # Each engine (harness/engine/<name>/) declares a subclass with its own keys and
    # `engine: Literal["<name>"]`; the concrete Scenario model (`scenario_model`) accepts
    # the union of the registered ones, discriminated by `engine`.

    # Set by the engine registry: what the engine can do ("services", "nodes", ...),
    # detected from the protocols its fault-facing API implements.
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # The key that names the stack's definition (a path relative to the scenario file).
    definition_key: ClassVar[str] = ""

    if TYPE_CHECKING:  # a field of every concrete stack (a Literal); hidden from pydantic here
        engine: str

    project: str | None = Field(
        default=None,
        max_length=MAX_NAME,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="the run-scoped name of the stack (compose project, swarm stack...); "
        "default hachaos-<scenario>-<random>",
    )
    target: ServicePort | Annotated[str, Field(max_length=MAX_TEXT)] = Field(
        description="where load goes: a URL on 127.0.0.1, or {service, port}"
    )
    ready_timeout: Duration = Field(default=120.0, description="wait this long for healthy")
    ready_path: str = Field(
        default="/", max_length=MAX_TEXT, description="HTTP path polled until it answers 2xx"
    )
    container_metrics: bool = Field(
        default=True,
        description="sample CPU, memory, network and block I/O of every container each second",
    )
    metrics: list[MetricsEndpoint] = Field(
        default_factory=list,
        max_length=10,
        description="the stack's own Prometheus endpoints, scraped during the run",
    )
    overrides: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Field(
        default_factory=list,
        max_length=MAX_OVERRIDES,
        description="files layered over `compose` on every deploy (compose -f, stack deploy"
        " -c; later files win), relative to the scenario file",
    )
    variants: list[Variant] = Field(
        default_factory=list,
        max_length=MAX_VARIANTS,
        description="experiments only: named sets of more override files, each measured"
        " and compared in one report (docs/capacity.md)",
    )

    @field_validator("variants")
    @classmethod
    def _unique_variants(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"variant name {name!r} is used twice; give each its own")
        return variants

    @classmethod
    def engine_name(cls) -> str:
        """The ``engine`` value this model stands for (its Literal; "" when it has none)."""
        names = get_args(cls.model_fields["engine"].annotation)
        return str(names[0]) if len(names) == 1 else ""

    def definition(self) -> str:
        """The stack's definition as written (relative to the scenario file)."""
        return str(getattr(self, self.definition_key))


class RecordedStack(StackBase):
    """A stack as a run folder recorded it (already validated by the run): any engine."""

    model_config = ConfigDict(extra="allow")

    engine: str = Field(default="", max_length=MAX_NAME)  # "": a run from before engines


def stack_union(stacks: tuple[type[StackBase], ...]) -> Any:
    """One stack of ``stacks``, discriminated by ``engine``; the one whose ``engine`` has a
    default is taken when the key is left out."""
    if not stacks:
        raise ValueError("a scenario model needs at least one stack engine")
    if len(stacks) == 1:
        return stacks[0]
    defaults = [s.engine_name() for s in stacks if not s.model_fields["engine"].is_required()]
    if len(defaults) > 1:
        raise ValueError(f"only one engine may be the default, not {', '.join(defaults)}")
    default = defaults[0] if defaults else None

    def engine_of(value: Any) -> Any:
        if isinstance(value, dict):
            return value.get("engine", default)
        return getattr(value, "engine", None)

    members = tuple(Annotated[s, Tag(s.engine_name())] for s in stacks)
    return Annotated[Union[members], Discriminator(engine_of)]  # noqa: UP007


# --------------------------------------------------------------------------- load
class Stage(Strict):
    """One stage of the load shape. ``target`` is users (closed) or requests/s (open)."""

    kind: Literal["ramp", "step", "spike"] = Field(
        description="ramp: linear to target; step: jump to target; spike: jump, hold, return"
    )
    target: float = Field(
        ge=0, le=MAX_RPS, description="users (closed model) or requests/s (open model)"
    )
    duration: Duration = Field(gt=0, description="how long the stage lasts")


class Mix(Strict):
    """Relative weights of the built-in workload's requests."""

    read: float = Field(default=70, ge=0, le=MAX_WEIGHT, description="GET /")
    write: float = Field(
        default=20, ge=0, le=MAX_WEIGHT, description="POST /items with a unique payload"
    )
    read_item: float = Field(
        default=10, ge=0, le=MAX_WEIGHT, description="GET /items/{id} of an earlier write"
    )

    @model_validator(mode="after")
    def _some_weight(self) -> Mix:
        if self.read + self.write + self.read_item <= 0:
            raise ValueError("at least one weight of the mix must be above 0")
        return self


class Load(Strict):
    """The load profile."""

    model: Literal["closed", "open"] = Field(
        default="closed",
        description=(
            "closed: N users in a loop; open: fixed arrival rate (safe from coordinated omission)"
        ),
    )
    users: int | None = Field(
        default=None, ge=1, le=MAX_USERS, description="closed model: concurrent users"
    )
    spawn_rate: float = Field(
        default=10.0, gt=0, le=MAX_USERS, description="closed model: users started per s"
    )
    rps: float | None = Field(
        default=None, gt=0, le=MAX_RPS, description="open model: requests per second"
    )
    arrivals: Literal["uniform", "poisson"] = Field(
        default="uniform",
        description=(
            "open model: uniform (evenly spaced) or poisson (random gaps, seeded by `seed`);"
            " see docs/load.md#arrivals"
        ),
    )
    stages: list[Stage] = Field(
        default_factory=list, max_length=MAX_LIST, description="optional load shape"
    )
    mix: Mix = Field(default_factory=Mix, description="request mix of the built-in workload")
    requests: list[RequestSpec] = Field(
        default_factory=list,
        max_length=MAX_REQUESTS,
        description="declarative requests instead of the built-in workload (see below)",
    )
    locustfile: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        description="your own locustfile, relative to the scenario file",
    )
    timeout: Duration = Field(default=2.0, gt=0, description="client timeout; counts as failure")
    processes: Annotated[int, Field(ge=1, le=MAX_PROCESSES)] | Literal["auto"] = Field(
        default="auto", description="Locust worker processes; auto = one per core"
    )
    think_time: Duration = Field(default=0.0, description="closed model: pause between requests")
    workers: Workers | None = Field(
        default=None,
        description="where the Locust workers run: `local: N`, `remote: {count, listen}` "
        "(started by hand), or `<engine>: {replicas: N}` placed by the stack's engine "
        "(docs/load.md#distributed-workers); default: `processes` local workers",
    )

    def worker_count(self) -> int | Literal["auto"]:
        """How many workers (``auto``: one per core on this host)."""
        return self.workers.count() if self.workers is not None else self.processes

    @model_validator(mode="after")
    def _model_fields(self) -> Load:
        # A recorded scenario (scenario.json) carries the default `processes: auto` too.
        given = "processes" in self.model_fields_set and self.processes != "auto"
        if self.workers is not None and given:
            raise ValueError(
                "give `processes` or `workers`, not both (`processes: N` is `workers: {local: N}`)"
            )
        if self.model == "closed" and self.users is None and not self.stages:
            raise ValueError("the closed model needs `users` (or `stages`)")
        if self.model == "open" and self.rps is None and not self.stages:
            raise ValueError("the open model needs `rps` (or `stages`)")
        if self.model == "closed" and self.rps is not None:
            raise ValueError("`rps` belongs to the open model; set `model: open` or use `users`")
        if self.model == "closed" and self.arrivals != "uniform":
            raise ValueError(
                "`arrivals` belongs to the open model (closed-model users send when their"
                " previous answer came back); set `model: open` and `rps`, or drop `arrivals`"
            )
        if self.model == "open" and self.users is not None:
            raise ValueError(
                "`users` belongs to the closed model; set `model: closed` or use `rps`"
            )
        workloads = [
            k
            for k, given in (
                # the default mix is what a dump of any scenario holds, so only a changed one counts
                ("mix", self.mix != Mix()),
                ("requests", bool(self.requests)),
                ("locustfile", self.locustfile is not None),
            )
            if given
        ]
        if len(workloads) > 1:
            raise ValueError(
                f"give one workload: `mix` (built-in), `requests` or `locustfile`;"
                f" found {' and '.join(workloads)}"
            )
        problem = requests_problem(self.requests)
        if problem:
            raise ValueError(problem)
        return self


class Timing(Strict):
    """Phases of the run. t = 0 is the end of the warmup."""

    warmup: Duration = Field(default=5.0, description="load before measurement; excluded")
    duration: Duration = Field(gt=0, description="measured run; faults happen inside it")
    cooldown: Duration = Field(default=10.0, description="load after the run to observe recovery")

    @model_validator(mode="after")
    def _bounded(self) -> Timing:
        total = self.warmup + self.duration + self.cooldown
        if total > MAX_DURATION_S:
            raise ValueError(
                f"warmup + duration + cooldown is {total:g}s; a run may last at most 24h"
                f" ({MAX_DURATION_S:g}s)"
            )
        return self


# --------------------------------------------------------------------------- faults
class Selector(Strict):
    """Which containers of a service a fault hits."""

    service: str = Field(min_length=1, max_length=MAX_NAME, description="compose service name")
    count: int | None = Field(default=None, ge=1, le=MAX_REPLICAS, description="this many replicas")
    percent: Fraction | None = Field(default=None, description="this share of the replicas")
    all: bool = Field(default=False, description="every replica")
    pick: Literal["random", "first", "all"] = Field(
        default="random", description="how replicas are chosen; random uses the seed"
    )
    index: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPLICAS,
        description="exactly this replica (compose container number)",
    )

    @model_validator(mode="after")
    def _one_amount(self) -> Selector:
        given = [
            n
            for n, v in (("count", self.count), ("percent", self.percent), ("index", self.index))
            if v is not None
        ] + (["all"] if self.all else [])
        if len(given) > 1:
            raise ValueError(
                f"give only one of count, percent, all, index; found {', '.join(given)}"
            )
        if self.pick == "all" and given and given != ["all"]:
            raise ValueError(
                f"`pick: all` takes every replica; drop {given[0]} or pick first|random"
            )
        return self


class FaultBase(Strict):
    """Fields every fault has, and the class-level facts of a fault type.

    A fault type subclasses this (or ``WindowedFault``) in its plugin module with a
    ``type: Literal["..."]`` field; its docstring is its summary in docs/scenarios.md.
    """

    # No revert step: the fault happens at an instant and the stack heals itself.
    instant: ClassVar[bool] = False
    # Namespaces of the target the fault acts in ("network", "pid"); a target that
    # shares one of them with the host or another container is refused.
    namespaces: ClassVar[frozenset[str]] = frozenset()
    # What the fault needs of the engine beyond containers (``services``, ``nodes``...:
    # harness/engine/capabilities.py); validation refuses it on an engine without them.
    needs: ClassVar[frozenset[str]] = frozenset()

    if TYPE_CHECKING:  # a field of every concrete type (a Literal); hidden from pydantic here
        type: str

    name: str | None = Field(
        default=None, max_length=MAX_NAME, description="label in reports; default type-N"
    )
    target: Selector = Field(description="which containers the fault hits")
    at: Duration = Field(description="offset from t = 0 (end of warmup)")
    for_: Duration | None = Field(
        default=None, alias="for", gt=0, description="how long the fault lasts"
    )
    until: Duration | None = Field(default=None, description="explicit restore time (offset)")
    repeat: int = Field(
        default=1, ge=1, le=MAX_REPEAT, description="how many times the fault happens"
    )
    every: Duration | None = Field(default=None, gt=0, description="period between repeats")
    jitter: Duration = Field(default=0.0, description="random +/- shift of each repeat (seeded)")
    allow_overlap: bool = Field(
        default=False, description="allow this fault to overlap others on the same containers"
    )
    max_recovery: Duration | None = Field(
        default=None, description="override checks.recovery.max for this fault"
    )

    @model_validator(mode="after")
    def _window(self) -> FaultBase:
        if self.for_ is not None and self.until is not None:
            raise ValueError("give either `for` or `until`, not both")
        if self.until is not None and self.until <= self.at:
            raise ValueError(f"`until` ({self.until}s) must come after `at` ({self.at}s)")
        if self.repeat > 1 and self.every is None:
            raise ValueError("`repeat` above 1 needs `every`")
        # Keeps occurrences in order whatever the seed.
        schedule_jitter = self.schedule_jitter()
        if self.repeat > 1 and self.every is not None and 2 * schedule_jitter >= self.every:
            raise ValueError(
                f"`jitter` ({schedule_jitter:g}s) must be less than half"
                f" of `every` ({self.every:g}s)"
            )
        return self

    def type_name(self) -> str:
        """The fault's ``type`` as written in the file."""
        return str(getattr(self, "type", "fault"))

    @classmethod
    def fault_type(cls) -> str:
        """The ``type`` tag of a concrete fault class (its ``Literal``)."""
        field = cls.model_fields.get("type")
        tags = get_args(field.annotation) if field is not None else ()
        if len(tags) != 1 or not isinstance(tags[0], str):
            raise TypeError(f'{cls.__name__} needs a field `type: Literal["<name>"]`')
        return tags[0]

    def schedule_jitter(self) -> float:
        """The +/- shift applied to each occurrence (a type may use `jitter` otherwise)."""
        return self.jitter

    def window(self) -> float:
        """Planned length of one occurrence in seconds (0 for instant faults)."""
        if self.for_ is not None:
            return self.for_
        if self.until is not None:
            return self.until - self.at
        return 0.0


class WindowedFault(FaultBase):
    """A fault that is applied, held, then reverted: needs `for` or `until`."""

    @model_validator(mode="after")
    def _needs_window(self) -> WindowedFault:
        if self.for_ is None and self.until is None:
            raise ValueError(f"a `{getattr(self, 'type', 'fault')}` fault needs `for` or `until`")
        return self


# A signal name or number; it reaches the engine API (kill) or a helper's shell (crash).
SIGNAL_PATTERN = r"^(SIG)?[A-Z][A-Z0-9+-]{0,11}$|^[0-9]{1,2}$"

Direction = Literal["both", "outbound", "inbound"]


class PeerPort(Strict):
    """Connections the target opens to a peer service's port (resolved to its replicas' IPs)."""

    service: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="compose service the target connects to",
    )
    port: int = Field(ge=1, le=65535, description="the peer's container port")
    index: int | None = Field(
        default=None, ge=1, le=1000, description="only this replica (compose container number)"
    )


ProxyDirection = Literal["egress", "ingress", "both"]


class NetworkFault(WindowedFault):
    """A fault made in the target's network namespace (by a helper sharing it)."""

    namespaces = frozenset({"network"})


class ProxiedFault(NetworkFault):
    """A fault served by the fault proxy in the target's netns (see docs/faults.md)."""

    to: PeerPort | None = Field(
        default=None, description="only connections to this peer; absent = all egress TCP"
    )


class HttpMatch(ProxiedFault):
    """Which HTTP/1.1 requests a proxied HTTP fault hits."""

    percent: Fraction = Field(default=1.0, description="share of matching requests hit")
    method: str | None = Field(
        default=None, pattern=r"^[A-Z]{1,16}$", description="only this method, e.g. GET"
    )
    path_prefix: str = Field(
        default="/", pattern=r"^/[!-~]{0,255}$", description="only paths starting with this"
    )


# The concrete fault types live in their plugin modules (harness/faults/<type>.py);
# `scenario_model` builds the Scenario that accepts them.


# --------------------------------------------------------------------------- checks
Phase = Literal["overall", "baseline", "during_faults", "recovery", "after_recovery"]


class AvailabilityChecks(Strict):
    """Minimum availability (successful / all requests) per phase."""

    overall: Fraction | None = Field(default=None, description="whole measured run")
    baseline: Fraction | None = Field(default=None, description="t = 0 until the first fault")
    during_faults: Fraction | None = Field(default=None, description="while a fault is in effect")
    after_recovery: Fraction | None = Field(
        default=None, description="from recovery to the end of the cooldown"
    )


class LatencyCheck(Strict):
    """A latency percentile must stay below a bound."""

    percentile: float = Field(gt=0, le=100, description="e.g. 99 or 99.9")
    max: Duration = Field(gt=0, description="upper bound")
    phase: Phase = Field(default="overall", description="part of the run the bound applies to")
    corrected: bool = Field(
        default=True, description="use latency corrected for coordinated omission when available"
    )


class RecoveryChecks(Strict):
    """Time-to-recover bounds."""

    max: Duration | None = Field(default=None, description="maximum time to recover per fault")
    window: Duration = Field(default=5.0, gt=0, description="window that must meet the SLO")
    slo: Fraction = Field(default=0.99, description="availability the window must reach")


class DurabilityCheck(Strict):
    """Read every acknowledged write back after the faults are reverted.

    Built-in (reference app): the built-in workload's ``POST /items`` are read
    back with ``GET /items/{id}``. A locustfile of your own must put
    ``"<id> <key>"`` under the context key ``hachaos_item`` of each acknowledged
    write (see docs/load.md). Any other HTTP API: give ``write``, ``id``, ``read``
    (and ``compare``); the write joins ``load.requests`` with its ``weight``, a
    response with an ``expect`` status and an ``id`` is acknowledged, and is
    read back with ``read``: an ``expect`` status with every ``compare`` value
    is ok, another value corrupt, a ``missing`` status lost, anything else
    unknown. A write that timed out is looked up by its ``{key}`` (``lookup``, or
    ``read`` when it uses ``{key}`` and not ``{id}``): found = landed, a
    ``missing`` status = did not land, anything else (or no lookup) = unknown.
    """

    max_lost: int = Field(
        default=0, ge=0, le=1_000_000_000, description="lost + corrupt writes allowed"
    )
    max_reads: int = Field(
        default=20000,
        ge=1,
        le=1_000_000,
        description="read back at most this many (a seeded random sample)",
    )
    timeout: Duration = Field(default=60.0, gt=0, description="stop reading back after this long")
    write: DurableWrite | None = Field(
        default=None,
        description="generic API: the write sent with the load (needs load.requests)",
    )
    id: JsonPathText | None = Field(
        default=None, description="generic API: JSON path of the id in the write's response"
    )
    read: DurableRead | None = Field(
        default=None, description="generic API: how one write is read back"
    )
    compare: dict[JsonPathText, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict,
        max_length=MAX_COMPARE,
        description="generic API: JSON path in the read's body: the value it must have",
    )
    lookup: DurableLookup | None = Field(
        default=None,
        description="generic API: find a timed-out write by {key}; default `read` if it"
        " uses {key} and not {id}",
    )

    @model_validator(mode="after")
    def _generic(self) -> DurabilityCheck:
        parts = {"write": self.write, "id": self.id, "read": self.read}
        given = [k for k, v in parts.items() if v is not None]
        if given and len(given) < len(parts):
            missing = [k for k in parts if k not in given]
            raise ValueError(
                f"the generic durability check needs `write`, `id` and `read`; missing"
                f" {', '.join(missing)}"
            )
        if not given and (self.compare or self.lookup is not None):
            raise ValueError("`compare` and `lookup` belong to the generic check: add `write`")
        if self.id is not None:
            problem = compare_problem({self.id: ""})
            if problem:
                raise ValueError(problem)
        problem = compare_problem(self.compare)
        if problem:
            raise ValueError(problem)
        return self


class IsolationRule(Strict):
    """One reachability rule: TCP from inside ``from``'s containers to every replica of ``to``."""

    from_: str = Field(alias="from", min_length=1, description="service probed from (its netns)")
    to: str = Field(min_length=1, description="service probed (every replica, every address)")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="TCP port; default every port `to` exposes"
    )


class IsolationCheck(Strict):
    """Reachability between services, probed at baseline, in every fault window and after.

    A denied path found open at any time fails; an allowed path found closed
    outside a fault window (and its ``settle`` time) fails, inside it is reported.
    """

    deny: list[IsolationRule] = Field(default_factory=list, max_length=64)
    allow: list[IsolationRule] = Field(default_factory=list, max_length=64)
    probe_every: Duration = Field(default=5.0, ge=1, le=300, description="period between rounds")
    timeout: Duration = Field(default=1.0, gt=0, le=5, description="TCP connect timeout")
    settle: Duration = Field(
        default=5.0,
        ge=0,
        le=300,
        description="allowed paths may stay closed this long after a revert",
    )


class Checks(Strict):
    """The scenario's SLOs."""

    availability: AvailabilityChecks = Field(
        default_factory=AvailabilityChecks, description="minimum availability per phase"
    )
    latency: list[LatencyCheck] = Field(
        default_factory=list, max_length=MAX_LIST, description="latency bounds"
    )
    recovery: RecoveryChecks = Field(
        default_factory=RecoveryChecks, description="time-to-recover bounds"
    )
    max_failure_span: Duration | None = Field(
        default=None, description="longest run of consecutive failed requests allowed"
    )
    durability: DurabilityCheck | None = Field(
        default=None,
        description="read acknowledged writes back after the faults; absent = no check",
    )
    isolation: IsolationCheck | None = Field(
        default=None, description="network reachability between services; absent = no check"
    )
    consistency: ConsistencyCheck | None = Field(
        default=None,
        description="record reads and writes, check linearizability and more; absent = no check",
    )
    min_capacity: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RPS,
        description="experiments: every configuration's capacity (requests/s) without the"
        " faults must reach this",
    )
    n_plus_1: bool = Field(
        default=False,
        description="experiments: with the faults of `faults` held, every configuration must"
        " still carry `experiment.capacity.peak` within the SLOs",
    )


ReportFormat = Literal["html", "md", "json", "junit"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("html", "md", "json", "junit")


class ReportConfig(Strict):
    """What the run writes."""

    formats: list[ReportFormat] = Field(
        default_factory=lambda: list(REPORT_FORMATS),
        max_length=MAX_LIST,
        description="files written per run",
    )
    dir: str = Field(
        default="reports",
        max_length=MAX_TEXT,
        description="output root, relative to the current dir",
    )


# --------------------------------------------------------------------------- scenario
class Scenario(Strict):
    """A whole scenario file."""

    version: Literal[1] = Field(description="format version; always 1")
    name: str = Field(
        max_length=MAX_NAME, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="scenario name"
    )
    description: str = Field(
        default="", max_length=MAX_TEXT, description="free text shown in reports"
    )
    tags: list[Annotated[str, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list, max_length=MAX_LIST, description="labels to select scenarios"
    )
    expect: Literal["pass", "fail", "aborted"] = Field(
        default="pass",
        description="the verdict this scenario is meant to give (`fail` for one that shows a"
        " weakness on purpose): `hachaos suite` counts a run that gives it as expected and"
        " exits non-zero only for the others; `hachaos run` always exits by the checks",
    )
    seed: int = Field(
        default=0,
        ge=-MAX_SEED,
        le=MAX_SEED,
        description="seeds every random choice; same seed, same plan",
    )
    # Concrete models (``scenario_model``) narrow this to the union of the engines' stacks.
    stack: StackBase = Field(description="the stack under test")
    load: Load = Field(description="the load profile")
    timing: Timing = Field(
        description="warmup, measured run and cooldown; may be left out with `experiment`"
    )
    # Concrete models (``scenario_model``) narrow this to the union of the fault types.
    faults: list[FaultBase] = Field(
        default_factory=list, max_length=MAX_FAULTS, description="the fault schedule"
    )
    checks: Checks = Field(default_factory=Checks, description="the SLOs")
    report: ReportConfig = Field(default_factory=ReportConfig, description="what the run writes")
    abort: Abort | None = Field(
        default=None,
        description="stop conditions: revert every fault, end after the cooldown (docs/guards.md)",
    )
    steady_state: SteadyState | None = Field(
        default=None, description="probes that must hold before the faults and after the cooldown"
    )
    experiment: Experiment | None = Field(
        default=None,
        description="find the load the stack sustains instead of one timed run: capacity"
        " search, scaling curve, variants (docs/capacity.md); `timing` and `load.rps` may"
        " then be left out",
    )

    # Set by the loader; not part of the file.
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _experiment_fills(cls, data: Any) -> Any:
        return experiment_defaults(data)

    @field_validator("faults")
    @classmethod
    def _bounded_occurrences(cls, faults: list[FaultBase]) -> list[FaultBase]:
        total = sum(f.repeat for f in faults)
        if total > MAX_OCCURRENCES:
            raise ValueError(
                f"the faults happen {total} times in all (repeats included); the limit is"
                f" {MAX_OCCURRENCES}"
            )
        return faults

    # Set on concrete models (``scenario_model``): the stack models of every engine.
    stack_models: ClassVar[tuple[type[StackBase], ...]] = ()

    @field_validator("faults")
    @classmethod
    def _on_this_engine(cls, faults: list[FaultBase], info: ValidationInfo) -> list[FaultBase]:
        stack = info.data.get("stack")
        if not isinstance(stack, StackBase):
            return faults
        for i, fault in enumerate(faults):
            missing = type(fault).needs - type(stack).capabilities
            if missing:
                able = [s.engine_name() for s in cls.stack_models if missing <= s.capabilities]
                needs = (
                    f"`stack.engine: {' or '.join(sorted(able))}`"
                    if able
                    else f"an engine with {', '.join(sorted(missing))}"
                )
                raise ValueError(
                    f"faults[{i}]: a `{fault.type}` fault needs {needs}, "
                    f"and this stack runs on {stack.engine}"
                )
        return faults

    @model_validator(mode="after")
    def _workers_beside_the_stack(self) -> Scenario:
        workers = self.load.workers
        if workers is not None and workers.local is None and self.experiment is not None:
            raise ValueError(
                "load.workers: an experiment runs its load steps with local workers only;"
                " use `local: N` (or `processes`)"
            )
        placed = workers.placement() if workers is not None else None
        if placed is None or RecordedStack in type(self).stack_models:
            return self  # a recorded run was validated when it ran
        engine = placed[0]
        if engine != self.stack.engine:
            raise ValueError(
                f"load.workers.{engine}: the {engine} engine places workers beside a stack it"
                f" runs (they reach the target on its network), and this stack runs on"
                f" {self.stack.engine}; set `stack.engine: {engine}`, or use `local` or `remote`"
            )
        return self

    def fault_name(self, index: int) -> str:
        """Report label of fault ``index``: its name, or ``<type>-<index>``."""
        fault = self.faults[index]
        return fault.name or f"{fault.type}-{index + 1}"

    def resolve_path(self, relative: str) -> Path:
        """A path from the file, resolved against the scenario file's folder."""
        base = self.source.parent if self.source else Path.cwd()
        return (base / relative).resolve()


def fault_union(specs: tuple[type[FaultBase], ...]) -> Any:
    """One fault of ``specs``: a union discriminated by ``type`` (when each has a Literal)."""
    if not specs:
        raise ValueError("a scenario model needs at least one fault type")
    fault: Any = Union[specs] if len(specs) > 1 else specs[0]  # noqa: UP007
    tags = [
        get_origin(s.model_fields["type"].annotation) for s in specs if "type" in s.model_fields
    ]
    if len(tags) == len(specs) and all(tag is Literal for tag in tags):
        fault = Annotated[fault, Field(discriminator="type")]
    return fault


def scenario_model(
    specs: tuple[type[FaultBase], ...], stacks: tuple[type[StackBase], ...]
) -> type[Scenario]:
    """The Scenario model whose ``faults`` accept exactly these fault types and whose
    ``stack`` accepts exactly these engines' stacks.

    The scenario layer knows no fault type and no engine: harness/faults/catalog.py
    passes in the fault plugins' specs and the engine registry's stack models. The
    result keeps the name ``Scenario``, so the JSON Schema is the same.
    """
    fault = fault_union(specs)
    recorded = RecordedStack in stacks  # a run folder's scenario: any engine's workers
    placing = [s.engine_name() for s in stacks if LOAD_WORKERS in s.capabilities]
    workers: Any = workers_model(placing, recorded=recorded) | None
    load = create_model(
        "Load",
        __base__=Load,
        __module__=__name__,
        workers=(workers, Load.model_fields["workers"]),
    )
    load.__doc__ = Load.__doc__
    model = create_model(
        "Scenario",
        __base__=Scenario,
        __module__=__name__,
        stack=(stack_union(stacks), Field(description="the stack under test")),
        load=(load, Field(description="the load profile")),
        faults=(
            list[fault],  # type: ignore[valid-type]
            Field(default_factory=list, max_length=MAX_FAULTS, description="the fault schedule"),
        ),
    )
    model.__doc__ = Scenario.__doc__
    model.stack_models = stacks
    return model


def fault_specs(model: type[Scenario]) -> tuple[type[FaultBase], ...]:
    """The fault types a Scenario model accepts, in union order."""
    (item,) = get_args(model.model_fields["faults"].annotation)  # list[Annotated[...]]
    while not isinstance(item, type):  # unwrap Annotated, then the Union
        args = get_args(item)
        if all(isinstance(a, type) and issubclass(a, FaultBase) for a in args):
            return tuple(args)
        item = args[0]
    return (item,)


class RecordedFault(FaultBase):
    """A fault as a run folder recorded it (already validated by the run): any type."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=MAX_NAME)

    def schedule_jitter(self) -> float:
        # The type's meaning of `jitter` is unknown here; the run already checked it.
        return 0.0


# Reads a run folder's scenario.json whatever fault types this build knows.
RecordedScenario = scenario_model((RecordedFault,), (RecordedStack,))
