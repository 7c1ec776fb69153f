"""Semantic checks of an experiment scenario (and of experiment keys without one).

An experiment runs load steps, not one timed run, so some keys of a run mean
nothing there and are refused with what to write instead; the faults are held
for a whole degraded search, so they must start at once and last long enough.
"""

from __future__ import annotations

from harness.errors import Problem
from harness.scenario.compose import ComposeConfig
from harness.scenario.experiment import MAX_CONFIGURATIONS, Experiment
from harness.scenario.models import Scenario
from harness.scenario.plan import selector_problem
from harness.scenario.units import MAX_DURATION_S

_NOT_IN_EXPERIMENT = (
    ("checks.durability", "the durability read-back"),
    ("checks.isolation", "the isolation probes"),
    ("checks.recovery.max", "a recovery bound (nothing recovers: the faults are held)"),
    ("checks.max_failure_span", "a failure-span bound"),
    ("abort", "stop conditions"),
    ("steady_state", "steady-state probes"),
)


def _given(scenario: Scenario) -> dict[str, bool]:
    checks = scenario.checks
    return {
        "checks.durability": checks.durability is not None,
        "checks.isolation": checks.isolation is not None,
        "checks.recovery.max": checks.recovery.max is not None,
        "checks.max_failure_span": checks.max_failure_span is not None,
        "abort": scenario.abort is not None,
        "steady_state": scenario.steady_state is not None,
    }


def _without_experiment(scenario: Scenario) -> list[Problem]:
    need = "add an `experiment: {capacity: ...}` block (docs/capacity.md)"
    problems = []
    if scenario.stack.variants:
        problems.append(
            Problem("stack.variants", f"variants are compared by an experiment; {need}")
        )
    if scenario.checks.min_capacity is not None:
        problems.append(
            Problem("checks.min_capacity", f"capacity is measured by an experiment; {need}")
        )
    if scenario.checks.n_plus_1:
        problems.append(Problem("checks.n_plus_1", f"N+1 is judged by an experiment; {need}"))
    return problems


def _load_and_keys(scenario: Scenario) -> list[Problem]:
    problems = []
    if scenario.load.model != "open":
        problems.append(
            Problem(
                "load.model",
                "a capacity search offers fixed arrival rates: use `model: open` (or leave"
                " `model` out)",
            )
        )
    if scenario.load.stages:
        problems.append(
            Problem("load.stages", "the capacity search sets the rate of each step; drop `stages`")
        )
    given = _given(scenario)
    for key, what in _NOT_IN_EXPERIMENT:
        if given[key]:
            problems.append(Problem(key, f"{what} is not part of an experiment; drop `{key}`"))
    availability = scenario.checks.availability
    for phase in ("baseline", "during_faults", "after_recovery"):
        if getattr(availability, phase) is not None:
            problems.append(
                Problem(
                    f"checks.availability.{phase}",
                    "an experiment judges every load step as a whole: use"
                    " `checks.availability.overall`",
                )
            )
    for i, check in enumerate(scenario.checks.latency):
        if check.phase != "overall":
            problems.append(
                Problem(
                    f"checks.latency[{i}].phase",
                    "an experiment judges every load step as a whole: use `phase: overall`",
                )
            )
        if not check.corrected:
            problems.append(
                Problem(
                    f"checks.latency[{i}].corrected",
                    "a capacity step is judged on latency corrected for coordinated omission;"
                    " drop `corrected: false`",
                )
            )
    return problems


def _faults(scenario: Scenario, experiment: Experiment) -> list[Problem]:
    """The faults are the degraded condition: applied at once, held for the whole search."""
    budget = experiment.capacity.max_time
    problems = []
    for i, fault in enumerate(scenario.faults):
        if fault.instant or fault.window() == 0:
            problems.append(
                Problem(
                    f"faults[{i}]",
                    f"a `{fault.type}` fault is over in an instant, and an experiment holds its"
                    " faults for the whole degraded search: use a fault with a window, e.g."
                    " `stop` or `pause` for a replica down",
                )
            )
            continue
        if fault.at != 0:
            problems.append(
                Problem(
                    f"faults[{i}].at",
                    "an experiment applies its faults before the first step of the degraded"
                    " search: write `at: 0`",
                )
            )
        if fault.repeat != 1:
            problems.append(
                Problem(f"faults[{i}].repeat", "an experiment holds each fault once; drop `repeat`")
            )
        if fault.window() < budget:
            problems.append(
                Problem(
                    f"faults[{i}]",
                    f"the fault must last the whole degraded search: write `for: {budget:g}s`"
                    f" (experiment.capacity.max_time) or more; it is reverted when the search"
                    " ends",
                )
            )
    return problems


def _peak(scenario: Scenario, experiment: Experiment) -> list[Problem]:
    capacity = experiment.capacity
    problems = []
    if capacity.peak is not None and not scenario.faults:
        problems.append(
            Problem(
                "experiment.capacity.peak",
                "`peak` is the rate the stack must carry with a fault held (N+1): add the"
                " fault to hold under `faults`",
            )
        )
    if capacity.peak is not None and capacity.peak > capacity.max_rps:
        problems.append(
            Problem(
                "experiment.capacity.peak",
                f"`peak` ({capacity.peak:g}/s) is above `max_rps` ({capacity.max_rps:g}/s),"
                " which no step ever offers",
            )
        )
    if scenario.checks.n_plus_1 and capacity.peak is None:
        problems.append(
            Problem("checks.n_plus_1", "N+1 is judged against `experiment.capacity.peak`: set it")
        )
    return problems


def _scaling(scenario: Scenario, experiment: Experiment, compose: ComposeConfig) -> list[Problem]:
    scaling = experiment.scaling
    if scaling is None:
        return []
    if scaling.service not in compose.services:
        names = ", ".join(sorted(compose.services)) or "none"
        return [
            Problem(
                "experiment.scaling.service",
                f"unknown service {scaling.service!r}; {compose.path.name} has: {names}",
            )
        ]
    problems = []
    for i, fault in enumerate(scenario.faults):
        if fault.target.service != scaling.service:
            continue
        for count in scaling.counts():
            why = selector_problem(fault.target, count)
            if why:
                problems.append(Problem(f"faults[{i}].target", f"at {count} replicas: {why}"))
                break
    return problems


def _budget(scenario: Scenario, experiment: Experiment) -> list[Problem]:
    variants = max(len(scenario.stack.variants), 1)
    counts = len(experiment.scaling.replicas) if experiment.scaling else 1
    configurations = variants * counts
    if configurations > MAX_CONFIGURATIONS:
        return [
            Problem(
                "experiment",
                f"{variants} variant(s) x {counts} replica count(s) = {configurations}"
                f" deployments; at most {MAX_CONFIGURATIONS}",
            )
        ]
    searches = configurations * (2 if scenario.faults else 1)
    total = searches * experiment.capacity.max_time
    if total > MAX_DURATION_S:
        return [
            Problem(
                "experiment.capacity.max_time",
                f"{searches} searches of up to {experiment.capacity.max_time:g}s each may last"
                f" {total / 3600:.1f}h; the limit is 24h: lower max_time or measure fewer"
                " configurations",
            )
        ]
    return []


def check_experiment(scenario: Scenario, compose: ComposeConfig) -> list[Problem]:
    """Every problem of the experiment keys of ``scenario`` against its compose file."""
    experiment = scenario.experiment
    if experiment is None:
        return _without_experiment(scenario)
    return [
        *_load_and_keys(scenario),
        *_faults(scenario, experiment),
        *_peak(scenario, experiment),
        *_scaling(scenario, experiment, compose),
        *_budget(scenario, experiment),
    ]
