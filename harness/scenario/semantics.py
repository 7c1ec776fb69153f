"""Checks that need the compose file but no engine: names, windows, overlaps, amounts.

Each check returns problems with a YAML path and no position; the loader
locates them in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from urllib.parse import urlsplit

from harness.errors import Problem
from harness.scenario.compose import ComposeConfig
from harness.scenario.experiment_checks import check_experiment
from harness.scenario.explain import suggest
from harness.scenario.models import FaultBase, Scenario, ServicePort
from harness.scenario.namespaces import COMPOSE_SETTINGS, namespace_refusal
from harness.scenario.plan import (
    PlannedFault,
    build_plan,
    occurrence_bounds,
    schedule_jitter,
    selector_problem,
)

_LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _service_problem(path: str, service: str, compose: ComposeConfig) -> Problem | None:
    if service in compose.services:
        return None
    names = sorted(compose.services)
    return Problem(
        path,
        f"unknown service {service!r}; {compose.path.name} has: {', '.join(names) or 'none'}",
        suggestion=suggest(service, names),
    )


def _check_target(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    target = scenario.stack.target
    if isinstance(target, ServicePort):
        missing = _service_problem("stack.target.service", target.service, compose)
        if missing:
            return [missing]
        published = compose.services[target.service].ports
        if target.port not in published:
            shown = ", ".join(map(str, published)) or "no port"
            return [
                Problem(
                    "stack.target.port",
                    f"service {target.service!r} does not publish container port {target.port};"
                    f" it publishes {shown}",
                )
            ]
        return []
    url = urlsplit(target)
    if url.scheme not in ("http", "https") or not url.hostname:
        return [
            Problem(
                "stack.target", f"expected a URL such as http://127.0.0.1:8080/, found {target!r}"
            )
        ]
    if url.hostname not in _LOCAL_HOSTS:
        return [
            Problem(
                "stack.target",
                f"load may only go to 127.0.0.1 or localhost, found host {url.hostname!r}",
            )
        ]
    return []


def _check_names(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    problems: list[Problem] = []
    for i, fault in enumerate(scenario.faults):
        found = _service_problem(f"faults[{i}].target.service", fault.target.service, compose)
        if found:
            problems.append(found)
        for j, peer in enumerate(getattr(fault, "peers", [])):
            found = _service_problem(f"faults[{i}].peers[{j}]", peer, compose)
            if found:
                problems.append(found)
    for i, endpoint in enumerate(scenario.stack.metrics):
        where = f"stack.metrics[{i}]"
        if endpoint.published:  # scraped through the engine's published port
            found = _endpoint_problem(where, endpoint.service, endpoint.port, compose)
        else:
            found = _service_problem(f"{where}.service", endpoint.service, compose)
        if found:
            problems.append(found)
    iso = scenario.checks.isolation
    for kind, rules in (("deny", iso.deny if iso else []), ("allow", iso.allow if iso else [])):
        for i, rule in enumerate(rules):
            for key, name in (("from", rule.from_), ("to", rule.to)):
                found = _service_problem(f"checks.isolation.{kind}[{i}].{key}", name, compose)
                if found:
                    problems.append(found)
    return problems


def _check_namespaces(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Refuse faults that would act in a namespace the target shares with the host or
    another container (``network_mode: host``, ``pid: host``, ``service:...``)."""
    problems: list[Problem] = []
    for i, fault in enumerate(scenario.faults):
        service = compose.services.get(fault.target.service)
        if service is None:
            continue
        modes = {"network": service.network_mode, "pid": service.pid}
        why = namespace_refusal(fault.type, fault.namespaces, modes, COMPOSE_SETTINGS)
        if why:
            problems.append(
                Problem(
                    f"faults[{i}].target.service",
                    f"service {service.name!r} {why}; give the service its own namespace"
                    " or target another service",
                )
            )
    return problems


def _check_unique_names(scenario: Scenario) -> list[Problem]:
    """Every fault has its own name: it keys the fault in the journal, events and reports."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for j, fault in enumerate(scenario.faults):
        name = scenario.fault_name(j)
        i = first.setdefault(name, j)
        if i == j:
            continue
        if scenario.faults[i].name and fault.name:
            message = f"fault name {name!r} is already used by faults[{i}]"
            at = j
        else:  # automatic names (`type-N`) never clash with each other
            at, auto = (i, j) if scenario.faults[i].name else (j, i)
            message = (
                f"fault name {name!r} is also the automatic name (type-position) of faults[{auto}]"
            )
        problems.append(Problem(f"faults[{at}].name", f"{message}; give every fault its own name"))
    return problems


def _window_problem(fault: FaultBase, k: int, duration: float) -> str | None:
    """Why occurrence ``k`` of a fault may fall outside [0, duration], or None."""
    earliest, latest = occurrence_bounds(fault, k)
    instant = fault.instant
    if instant:
        latest -= fault.window()  # only the instant itself must lie inside
    which = f"occurrence {k + 1} of {fault.repeat}" if fault.repeat > 1 else "the fault"
    may = "may " if schedule_jitter(fault) > 0 else ""
    if earliest < 0:
        verb = "happen" if instant else "start"
        return (
            f"{which} {may}{verb}{'' if may else 's'} at {earliest:g}s, before the run starts"
            " at 0s; move `at` later or reduce `jitter`"
        )
    if latest > duration:
        verb = "happen" if instant else "last"
        when = "at" if instant else "until"
        return (
            f"{which} {may}{verb}{'' if may else 's'} {when} {latest:g}s, after the run ends at"
            f" timing.duration = {duration:g}s; shorten it or lengthen the run"
        )
    return None


def _check_windows(scenario: Scenario) -> list[Problem]:
    if scenario.experiment is not None:
        return []  # held for a whole search instead: check_experiment
    problems: list[Problem] = []
    for i, fault in enumerate(scenario.faults):
        for k in range(fault.repeat):
            problem = _window_problem(fault, k, scenario.timing.duration)
            if problem:
                where = f"faults[{i}].at" if "before the run" in problem else f"faults[{i}]"
                problems.append(Problem(where, problem))
                break  # one problem per fault is enough
    return problems


def _check_selectors(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    problems: list[Problem] = []
    for i, fault in enumerate(scenario.faults):
        service = compose.services.get(fault.target.service)
        if service is None:
            continue
        problem = selector_problem(fault.target, service.replicas)
        if problem:
            problems.append(Problem(f"faults[{i}].target", problem))
    return problems


def _interval(step: PlannedFault) -> tuple[float, float]:
    if step.end is not None:
        return step.start, step.end
    gap = float(getattr(step.spec, "gap", 0.0))
    return step.start, step.start + gap * (len(step.replicas) - 1)


def _overlaps(a: PlannedFault, b: PlannedFault) -> bool:
    if a.service != b.service or not set(a.replicas) & set(b.replicas):
        return False
    (a0, a1), (b0, b1) = _interval(a), _interval(b)
    # Windows are half-open [start, end); an instant fault is a point that is
    # inside a window and collides with another instant at the same time.
    if a0 == a1 and b0 == b1:
        return a0 == b0
    if a0 == a1:
        return b0 <= a0 < b1
    if b0 == b1:
        return a0 <= b0 < a1
    return max(a0, b0) < min(a1, b1)


def _check_overlaps(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    replicas = {name: info.replicas for name, info in compose.services.items()}
    plan = build_plan(scenario, replicas)
    problems: list[Problem] = []
    reported: set[tuple[int, int]] = set()
    for a, b in combinations(plan.steps, 2):
        if a.fault_index == b.fault_index or not _overlaps(a, b):
            continue
        if a.spec.allow_overlap or b.spec.allow_overlap:
            continue
        first, second = sorted((a, b), key=lambda s: s.fault_index)
        pair = (first.fault_index, second.fault_index)
        if pair in reported:
            continue
        reported.add(pair)
        shared = sorted(set(a.replicas) & set(b.replicas))
        problems.append(
            Problem(
                f"faults[{second.fault_index}]",
                f"{second.key} overlaps {first.key} on {a.service} replica(s)"
                f" {', '.join(map(str, shared))} (seed {plan.seed}); move it, or set"
                " `allow_overlap: true` on one of them",
            )
        )
    return problems


def _check_locustfile(scenario: Scenario) -> list[Problem]:
    if scenario.load.locustfile is None:
        return []
    path = scenario.resolve_path(scenario.load.locustfile)
    if path.is_file():
        return []
    return [Problem("load.locustfile", f"locustfile {str(path)!r} does not exist")]


def _endpoint_problem(
    where: str, service: str | None, port: int | None, compose: ComposeConfig
) -> Problem | None:
    if service is None or port is None:
        return None  # the load's target, checked by _check_target
    missing = _service_problem(f"{where}.service", service, compose)
    if missing or port in compose.services[service].ports:
        return missing
    return Problem(
        f"{where}.port",
        f"service {service!r} does not publish container port {port}; probes only"
        " reach published ports of the run's stack",
    )


def _check_guards(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Probes go to a published port of the stack's own services; commands must exist."""
    problems: list[Problem | None] = []
    for i, cond in enumerate(scenario.abort.conditions if scenario.abort else []):
        if cond.type == "probe":
            problems.append(
                _endpoint_problem(f"abort.conditions[{i}]", cond.service, cond.port, compose)
            )
        elif cond.type == "command" and "/" in cond.argv[0]:
            path = scenario.resolve_path(cond.argv[0])
            if not path.is_file():
                problems.append(
                    Problem(f"abort.conditions[{i}].argv", f"{str(path)!r} does not exist")
                )
    for i, probe in enumerate(scenario.steady_state.probes if scenario.steady_state else []):
        problems.append(
            _endpoint_problem(f"steady_state.probes[{i}]", probe.service, probe.port, compose)
        )
    return [p for p in problems if p is not None]


def _check_durable_write(scenario: Scenario) -> list[Problem]:
    """The generic durability write is sent by the declarative requests' load."""
    spec = scenario.checks.durability
    if spec is None or spec.write is None or scenario.load.requests:
        return []
    return [
        Problem(
            "checks.durability.write",
            "the generic durability write is sent with `load.requests`; add that list"
            " (a single read is enough), or drop `write`/`id`/`read` to use the built-in check",
        )
    ]


def _check_consistency_load(scenario: Scenario) -> list[Problem]:
    """The consistency workload runs inside the open model (its key rotation needs the rate)."""
    if scenario.checks.consistency is None or scenario.load.model == "open":
        return []
    return [
        Problem(
            "checks.consistency",
            "the consistency workload runs inside the open model: set `load.model: open`"
            " with `rps` (its keys rotate by the arrival rate)",
        )
    ]


def check_variant(scenario: Scenario, index: int, compose: ComposeConfig) -> list[Problem]:
    """What a variant's files may break: the load's target and the scaled service."""
    name = scenario.stack.variants[index].name
    problems = _check_target(scenario, compose)
    experiment = scenario.experiment
    if experiment is not None and experiment.scaling is not None:
        found = _service_problem("experiment.scaling.service", experiment.scaling.service, compose)
        problems += [found] if found else []
    return [
        Problem(f"stack.variants[{index}].overrides", f"with variant {name!r}: {p.message}")
        for p in problems
    ]


Check = Callable[[Scenario, ComposeConfig], list[Problem]]
"""A check that needs what only a higher layer knows (e.g. which namespaces a fault type
acts in): the caller hands it in, so this layer never imports the fault plugins."""


def check_scenario(
    scenario: Scenario, compose: ComposeConfig, extra: Sequence[Check] = ()
) -> list[Problem]:
    """Every semantic problem of a validated scenario against its compose file."""
    problems = [
        *_check_target(scenario, compose),
        *_check_names(scenario, compose),
        *_check_namespaces(scenario, compose),
        *(problem for check in extra for problem in check(scenario, compose)),
        *_check_unique_names(scenario),
        *_check_windows(scenario),
        *_check_selectors(scenario, compose),
        *_check_locustfile(scenario),
        *_check_guards(scenario, compose),
        *_check_durable_write(scenario),
        *_check_consistency_load(scenario),
        *check_experiment(scenario, compose),
    ]
    if not problems:
        # The overlap check needs a plan, and a plan needs every name and amount right.
        problems += _check_overlaps(scenario, compose)
    return problems
