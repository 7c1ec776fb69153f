"""`hachaos plan FILE`: the resolved fault timeline, without deploying anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from harness.analysis.abort import describe
from harness.cli.output import EXIT_INVALID, console, err_console, guarded
from harness.errors import ScenarioError
from harness.run.experiment import configurations
from harness.run.validate import check_scenario, validate_file
from harness.scenario.models import MAX_SEED, Scenario
from harness.scenario.plan import Plan, build_plan


def _offset(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}s"


def _as_json(plan: Plan, scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario": plan.scenario,
        "seed": plan.seed,
        "duration": scenario.timing.duration,
        "steps": [
            {
                "key": s.key,
                "fault_index": s.fault_index,
                "occurrence": s.occurrence,
                "name": s.name,
                "type": s.type,
                "service": s.service,
                "replicas": list(s.replicas),
                "start": s.start,
                "end": s.end,
            }
            for s in plan.steps
        ],
    }


def guard_lines(scenario: Scenario) -> list[str]:
    """The stop conditions and steady-state probes, one line each (docs/guards.md)."""
    lines = []
    if scenario.abort is not None:
        span = f"t = 0 … {scenario.timing.duration:g}s"
        lines += [f"abort when ({span}): {describe(c)}" for c in scenario.abort.conditions]
    if scenario.steady_state is not None:
        where = "before the first fault and after the cooldown"
        lines += [f"steady state ({where}): {p.label}" for p in scenario.steady_state.probes]
    return lines


def experiment_lines(scenario: Scenario) -> list[str]:
    """What a capacity experiment will do: its configurations, its search, its held faults."""
    experiment = scenario.experiment
    if experiment is None:
        return []
    capacity = experiment.capacity
    step = capacity.step or capacity.first_rate(scenario.load.rps)
    ramp = f"x {capacity.factor:g}" if capacity.factor else f"+ {step:g}/s"
    lines = [
        f"capacity experiment (docs/capacity.md): {len(configurations(scenario, experiment))}"
        " deployment(s), one search each"
        + (" and one with the faults below held for the whole search" if scenario.faults else ""),
        f"search: from {capacity.first_rate(scenario.load.rps):g}/s, {ramp} per step, at most"
        f" {capacity.max_rps:g}/s, to {capacity.resolution * 100:g} %; each step"
        f" {capacity.settle:g}s + {capacity.hold:g}s measured; at most {capacity.max_steps}"
        f" steps and {capacity.max_time:g}s per search",
    ]
    lines += [f"  deployment: {spec.label}" for spec in configurations(scenario, experiment)]
    return lines


def _table(plan: Plan, scenario: Scenario) -> Table:
    timing = scenario.timing
    table = Table(
        box=box.SIMPLE_HEAD,
        title=(
            f"{plan.scenario} — seed {plan.seed} — warmup {timing.warmup:g}s,"
            f" run {timing.duration:g}s, cooldown {timing.cooldown:g}s"
        ),
        caption="offsets from t = 0 (end of warmup); replicas are compose container numbers",
    )
    for column in ("offset", "until", "fault", "type", "service", "replicas"):
        # Fold rather than truncate: a plan that hides a name is no plan.
        table.add_column(
            column, justify="right" if column in ("offset", "until") else "left", overflow="fold"
        )
    for step in plan.steps:
        table.add_row(
            _offset(step.start),
            _offset(step.end) if step.end is not None else "(instant)",
            escape(step.key),
            step.type,
            escape(step.service),
            ", ".join(map(str, step.replicas)),
        )
    return table


def plan(
    file: Annotated[Path, typer.Argument(help="Scenario file.", show_default=False)],
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=-MAX_SEED, max=MAX_SEED, help="Override the scenario's seed."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Print the resolved timeline: which fault hits which replicas, and when.

    The plan is a pure function of the scenario, the compose file and the seed:
    the same seed prints the same plan. Nothing is deployed.
    """
    with guarded():
        try:
            scenario, compose = validate_file(file)
            if seed is not None and seed != scenario.seed:
                # Random picks and jitter change with the seed, so do overlaps.
                scenario = scenario.model_copy(update={"seed": seed})
                problems = check_scenario(scenario, compose)
                if problems:
                    raise ScenarioError(f"{file}: with seed {seed}", problems=problems)
        except ScenarioError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(EXIT_INVALID) from None
        result = build_plan(scenario, compose.replicas())
        if as_json:
            typer.echo(json.dumps(_as_json(result, scenario), indent=2))
        else:
            for line in experiment_lines(scenario):
                console.print(escape(line), soft_wrap=True)
            console.print(_table(result, scenario))
            for line in guard_lines(scenario):
                console.print(escape(line), soft_wrap=True)
