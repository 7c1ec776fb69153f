"""Pydantic models of a scenario file (format ``version: 1``).

Timeline convention: ``t = 0`` is the end of the warmup, when measurement
starts. Load runs from ``-warmup`` to ``duration + cooldown``. A fault's ``at``
is an offset from ``t = 0``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.scenario.units import MAX_DURATION_S, Duration, Fraction, MemorySize, Rate

# Sane caps: far above any real scenario, low enough that a typo or a hostile
# file cannot make the harness spawn, allocate or schedule without bound.
MAX_NAME = 100  # names, labels, service names
MAX_TEXT = 4096  # free text and paths
MAX_LIST = 100  # tags, peers, stages, latency checks
MAX_FAULTS = 100
MAX_OCCURRENCES = 1000  # fault occurrences in one run, repeats included
MAX_REPEAT = 1000
MAX_REPLICAS = 1000  # count / index of a selector
MAX_USERS = 10_000
MAX_RPS = 100_000.0
MAX_PROCESSES = 64
MAX_WEIGHT = 1_000_000.0
MAX_SEED = 2**63 - 1


class Strict(BaseModel):
    """Base for every scenario model: unknown keys are errors, floats are finite."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, allow_inf_nan=False
    )


# --------------------------------------------------------------------------- stack
class ServicePort(Strict):
    """A target given as a compose service and its container port."""

    service: str = Field(
        min_length=1, max_length=MAX_NAME, description="compose service that publishes the port"
    )
    port: int = Field(ge=1, le=65535, description="container port; resolved to the host port")
    scheme: Literal["http", "https"] = Field(default="http", description="http or https")


class Stack(Strict):
    """The Compose stack under test."""

    compose: str = Field(
        max_length=MAX_TEXT, description="compose file path, relative to the scenario file"
    )
    project: str | None = Field(
        default=None,
        max_length=MAX_NAME,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="compose project name; default hachaos-<scenario>-<random>",
    )
    target: ServicePort | Annotated[str, Field(max_length=MAX_TEXT)] = Field(
        description="where load goes: a URL on 127.0.0.1, or {service, port}"
    )
    ready_timeout: Duration = Field(default=120.0, description="wait this long for healthy")
    ready_path: str = Field(
        default="/", max_length=MAX_TEXT, description="HTTP path polled until it answers 2xx"
    )
    engine: Literal["compose", "swarm"] = Field(
        default="compose",
        description=(
            "compose: `docker compose up`; swarm: `docker stack deploy` on a swarm "
            "(docs/engines.md)"
        ),
    )


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
    stages: list[Stage] = Field(
        default_factory=list, max_length=MAX_LIST, description="optional load shape"
    )
    mix: Mix = Field(default_factory=Mix, description="request mix of the built-in workload")
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

    @model_validator(mode="after")
    def _model_fields(self) -> Load:
        if self.model == "closed" and self.users is None and not self.stages:
            raise ValueError("the closed model needs `users` (or `stages`)")
        if self.model == "open" and self.rps is None and not self.stages:
            raise ValueError("the open model needs `rps` (or `stages`)")
        if self.model == "closed" and self.rps is not None:
            raise ValueError("`rps` belongs to the open model; set `model: open` or use `users`")
        if self.model == "open" and self.users is not None:
            raise ValueError(
                "`users` belongs to the closed model; set `model: closed` or use `rps`"
            )
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
    """Fields every fault has."""

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
        # Keeps occurrences in order whatever the seed (latency's `jitter` is its delay's).
        schedule_jitter = 0.0 if self.type_name() == "latency" else self.jitter
        if self.repeat > 1 and self.every is not None and 2 * schedule_jitter >= self.every:
            raise ValueError(
                f"`jitter` ({schedule_jitter:g}s) must be less than half"
                f" of `every` ({self.every:g}s)"
            )
        return self

    def type_name(self) -> str:
        """The fault's ``type`` as written in the file."""
        return str(getattr(self, "type", "fault"))

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


class KillFault(WindowedFault):
    """SIGKILL through the engine API; restart policies do not apply; started again on revert."""

    type: Literal["kill"]
    signal: str = Field(
        default="SIGKILL",
        pattern=SIGNAL_PATTERN,
        max_length=MAX_NAME,
        description="signal sent through the engine",
    )


class StopFault(WindowedFault):
    """Graceful stop (SIGTERM then SIGKILL); started again on revert."""

    type: Literal["stop"]
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


class PauseFault(WindowedFault):
    """Freeze every process with the cgroup freezer; unpaused on revert."""

    type: Literal["pause"]


class CrashFault(FaultBase):
    """Kill the main process from the host pid namespace; the restart policy applies."""

    type: Literal["crash"]
    signal: str = Field(
        default="SIGKILL",
        pattern=SIGNAL_PATTERN,
        max_length=MAX_NAME,
        description="signal sent to the main process",
    )


class RestartFault(FaultBase):
    """Restart the containers through the engine (instant)."""

    type: Literal["restart"]
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


class RollingRestartFault(FaultBase):
    """Restart the chosen replicas one by one with a gap (instant, self-healing)."""

    type: Literal["rolling-restart"]
    gap: Duration = Field(default=5.0, description="pause between two restarts")
    grace: Duration = Field(default=10.0, description="time between SIGTERM and SIGKILL")


Direction = Literal["both", "outbound", "inbound"]


class PartitionFault(WindowedFault):
    """Drop traffic between the target and its peers with iptables in its netns."""

    type: Literal["partition"]
    peers: list[Annotated[str, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list,
        max_length=MAX_LIST,
        description="services on the other side; empty = isolate",
    )
    direction: Direction = Field(default="both", description="both, outbound or inbound")


class LossFault(WindowedFault):
    """Drop a share of packets at random (iptables statistic)."""

    type: Literal["loss"]
    percent: Fraction = Field(description="share of packets dropped")
    peers: list[Annotated[str, Field(max_length=MAX_NAME)]] = Field(
        default_factory=list, max_length=MAX_LIST, description="only towards these services"
    )
    direction: Direction = Field(default="both", description="both, outbound or inbound")


class BandwidthFault(WindowedFault):
    """Limit egress bandwidth with tc tbf."""

    type: Literal["bandwidth"]
    rate: Rate = Field(
        max_length=32, pattern=r"^\d+(\.\d+)?(bit|kbit|mbit|gbit)$", description="e.g. 1mbit"
    )


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
_RATE = r"^\d{1,12}(\.\d{1,6})?(bit|kbit|mbit|gbit)$"


class ProxiedFault(WindowedFault):
    """A fault served by the fault proxy in the target's netns (see docs/faults.md)."""

    to: PeerPort | None = Field(
        default=None, description="only connections to this peer; absent = all egress TCP"
    )


class LatencyFault(ProxiedFault):
    """Add delay (and jitter) with tc netem where the kernel has it, else with the fault proxy."""

    type: Literal["latency"]
    delay: Duration = Field(gt=0, le=60, description="added delay")
    jitter: Duration = Field(default=0.0, le=60, description="random variation of the delay")
    direction: ProxyDirection = Field(
        default="egress",
        description="egress: data the target sends; ingress: data it receives (proxy only)",
    )
    mechanism: Literal["auto", "netem", "proxy"] = Field(
        default="auto",
        description="auto: netem where the kernel has it and the fault allows it, else proxy",
    )

    @model_validator(mode="after")
    def _netem_can(self) -> LatencyFault:
        if self.mechanism == "netem" and (self.direction != "egress" or self.to is not None):
            raise ValueError(
                "netem delays every egress packet: it takes neither `to` nor `direction`"
                " other than egress; use `mechanism: proxy` or `auto`"
            )
        return self


class SlowFault(ProxiedFault):
    """Cap the bandwidth of each proxied connection (a slow link per connection)."""

    type: Literal["slow"]
    rate: str = Field(pattern=_RATE, description="per connection and direction, e.g. 256kbit")
    direction: ProxyDirection = Field(default="both", description="egress, ingress or both")


class HttpMatch(ProxiedFault):
    """Which HTTP/1.1 requests a proxied HTTP fault hits."""

    percent: Fraction = Field(default=1.0, description="share of matching requests hit")
    method: str | None = Field(
        default=None, pattern=r"^[A-Z]{1,16}$", description="only this method, e.g. GET"
    )
    path_prefix: str = Field(
        default="/", pattern=r"^/[!-~]{0,255}$", description="only paths starting with this"
    )


class HttpErrorFault(HttpMatch):
    """Answer a share of HTTP/1.1 requests with an error status (or a reset), unforwarded."""

    type: Literal["http-error"]
    status: int = Field(default=503, ge=400, le=599, description="status of the answer")
    action: Literal["status", "reset"] = Field(
        default="status", description="status: answer with `status`; reset: close with RST"
    )


class HttpDelayFault(HttpMatch):
    """Delay matching HTTP/1.1 requests (before forwarding) or their responses."""

    type: Literal["http-delay"]
    delay: Duration = Field(gt=0, le=600, description="added delay per hit request")
    on: Literal["request", "response"] = Field(
        default="request", description="delay the request or its response"
    )


class BlackholeFault(ProxiedFault):
    """Accept the target's connections and never answer (a hung dependency)."""

    type: Literal["blackhole"]


class DnsFault(WindowedFault):
    """Make Docker's embedded DNS (127.0.0.11) unreachable for the target."""

    type: Literal["dns"]


class CpuFault(WindowedFault):
    """Throttle with the engine's CPU quota."""

    type: Literal["cpu"]
    cpus: float = Field(gt=0, le=1024, description="CPU limit, e.g. 0.1 for a tenth of a core")


class MemoryFault(WindowedFault):
    """Allocate memory inside the container up to a size."""

    type: Literal["memory"]
    size: MemorySize = Field(description="memory to hold, e.g. 256MiB (at most 64GiB)")


# The path reaches a shell inside the target: absolute, a safe character set, bounded.
DISK_PATH_PATTERN = r"^/[A-Za-z0-9._/-]{0,254}$"
DISK_MAX_FILL = 0.95  # of the filesystem
DISK_MAX_BYTES = 2 * 2**30  # written by one fault in one container


def disk_path_problem(path: str) -> str | None:
    """Why ``path`` may not be a disk fault's path, or None (also re-checked at apply)."""
    if not re.fullmatch(DISK_PATH_PATTERN, path):
        return (
            "expected an absolute path of letters, digits, '.', '_', '-' and '/' "
            f"(at most 255 characters), found {path!r}"
        )
    if ".." in path.split("/"):
        return f"expected a path without '..', found {path!r}"
    return None


class DiskFault(WindowedFault):
    """Fill a path inside the container up to a level (a volume, bind mount or tmpfs)."""

    type: Literal["disk"]
    path: str = Field(
        default="/tmp",
        max_length=MAX_TEXT,
        description="directory to fill; must be on a volume, bind mount or tmpfs",
    )
    fill: Fraction = Field(default=0.95, description="target usage of the filesystem")

    @field_validator("path")
    @classmethod
    def _safe_path(cls, path: str) -> str:
        problem = disk_path_problem(path)
        if problem:
            raise ValueError(problem)
        return path

    @field_validator("fill")
    @classmethod
    def _fill_cap(cls, fill: float) -> float:
        if fill > DISK_MAX_FILL:
            raise ValueError(
                f"`fill` is capped at {DISK_MAX_FILL:.0%} of the filesystem (and at "
                f"{DISK_MAX_BYTES // 2**30} GiB written per container), found {fill:.0%}"
            )
        return fill


class ScaleFault(WindowedFault):
    """Remove the selected replicas, then recreate them."""

    type: Literal["scale"]


# --- Swarm-only fault types (stack.engine: swarm); docs/engines.md.
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
IMAGE_PATTERN = r"^[a-z0-9][a-z0-9._/-]{0,199}(:[A-Za-z0-9._-]{1,128})?$"


class ServiceUpdateFault(WindowedFault):
    """Swarm: a rolling update of the target's service under load, following its update_config.

    Without ``image``/``env`` it is a forced update (every task replaced by an
    identical one); with them, the service runs the change for the window and is
    rolled back to its own spec afterwards (a second rolling update).
    """

    type: Literal["service-update"]
    image: str | None = Field(
        default=None, pattern=IMAGE_PATTERN, description="image to update to (already built)"
    )
    env: dict[
        Annotated[str, Field(pattern=ENV_NAME_PATTERN)], Annotated[str, Field(max_length=MAX_TEXT)]
    ] = Field(default_factory=dict, max_length=MAX_LIST, description="variables to set")
    timeout: Duration = Field(
        default=120.0, le=900, description="how long the update (and its undo) may take"
    )


class ServiceScaleFault(WindowedFault):
    """Swarm: scale the target's service to ``replicas`` for the window, then back."""

    type: Literal["service-scale"]
    replicas: int = Field(ge=0, le=MAX_REPLICAS, description="task count during the fault")


class NodeDrainFault(WindowedFault):
    """Swarm, multi-node: drain the node that runs the target task; active again on revert."""

    type: Literal["node-drain"]


class NodeLossFault(WindowedFault):
    """Swarm, multi-node: freeze the engine of the node that runs the target task (a node
    started by scripts/swarm-node); thawed on revert."""

    type: Literal["node-loss"]


Fault = Annotated[
    KillFault
    | StopFault
    | PauseFault
    | CrashFault
    | RestartFault
    | RollingRestartFault
    | PartitionFault
    | LossFault
    | BandwidthFault
    | LatencyFault
    | SlowFault
    | HttpErrorFault
    | HttpDelayFault
    | BlackholeFault
    | DnsFault
    | CpuFault
    | MemoryFault
    | DiskFault
    | ScaleFault
    | ServiceUpdateFault
    | ServiceScaleFault
    | NodeDrainFault
    | NodeLossFault,
    Field(discriminator="type"),
]

FAULT_TYPES: tuple[str, ...] = (
    "kill",
    "stop",
    "pause",
    "crash",
    "restart",
    "rolling-restart",
    "partition",
    "loss",
    "bandwidth",
    "latency",
    "slow",
    "http-error",
    "http-delay",
    "blackhole",
    "dns",
    "cpu",
    "memory",
    "disk",
    "scale",
    "service-update",
    "service-scale",
    "node-drain",
    "node-loss",
)


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

    Needs the samples' ``item`` column: the built-in workload fills it; a
    locustfile of your own must put ``"<id> <key>"`` under the context key
    ``hachaos_item`` of each acknowledged write (see docs/load.md).
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
    seed: int = Field(
        default=0,
        ge=-MAX_SEED,
        le=MAX_SEED,
        description="seeds every random choice; same seed, same plan",
    )
    stack: Stack = Field(description="the Compose stack under test")
    load: Load = Field(description="the load profile")
    timing: Timing = Field(description="warmup, measured run and cooldown")
    faults: list[Fault] = Field(
        default_factory=list, max_length=MAX_FAULTS, description="the fault schedule"
    )
    checks: Checks = Field(default_factory=Checks, description="the SLOs")
    report: ReportConfig = Field(default_factory=ReportConfig, description="what the run writes")

    # Set by the loader; not part of the file.
    source: Path | None = Field(default=None, exclude=True)

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

    def fault_name(self, index: int) -> str:
        """Report label of fault ``index``: its name, or ``<type>-<index>``."""
        fault = self.faults[index]
        return fault.name or f"{fault.type}-{index + 1}"

    def resolve_path(self, relative: str) -> Path:
        """A path from the file, resolved against the scenario file's folder."""
        base = self.source.parent if self.source else Path.cwd()
        return (base / relative).resolve()
