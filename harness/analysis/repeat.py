"""Repeated runs of one scenario (`--repeat N`): each figure's spread and confidence
interval, and whether the verdict held; a scenario whose verdict differs between
repetitions is **flaky**, with the checks that flipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.analysis.figures import FIGURES, Figure
from harness.analysis.noise import Spread, spread
from harness.analysis.runrecord import ABORT_PHASE, RunRecord

JUDGED = ("pass", "fail", "aborted", "unchecked")  # verdicts of runs whose checks ran


@dataclass(frozen=True)
class FigureSpread:
    figure: Figure
    values: tuple[float | None, ...]  # one per repetition, in order
    spread: Spread | None  # of the measured values


@dataclass(frozen=True)
class RepeatResult:
    """The repetitions of one scenario, in the order they ran."""

    scenario: str
    runs: tuple[RunRecord, ...]
    figures: tuple[FigureSpread, ...]
    flipped: tuple[str, ...]  # checks that passed in some repetitions and failed in others

    @property
    def verdicts(self) -> tuple[str, ...]:
        return tuple(r.verdict for r in self.runs)

    @property
    def flaky(self) -> bool:
        """The verdict differs between repetitions (``unchecked`` counts as a pass)."""
        return len({"pass" if v == "unchecked" else v for v in self.verdicts}) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "repetitions": len(self.runs),
            "verdicts": list(self.verdicts),
            "flaky": self.flaky,
            "flipped_checks": list(self.flipped),
            "runs": [r.run_dir for r in self.runs],
            "figures": {
                f.figure.name: {
                    "unit": f.figure.unit,
                    "values": list(f.values),
                    **(
                        {
                            "mean": f.spread.mean,
                            "sd": f.spread.sd,
                            "min": f.spread.low,
                            "max": f.spread.high,
                            "ci95_low": f.spread.ci_low,
                            "ci95_high": f.spread.ci_high,
                        }
                        if f.spread
                        else {}
                    ),
                }
                for f in self.figures
            },
        }


def flipped_checks(runs: Sequence[RunRecord]) -> tuple[str, ...]:
    """Checks (by name and phase) that passed in one repetition and failed in another.
    A stop condition is recorded only when it held: absent, it counts as passed. Runs that
    ended in an error or an interruption judged nothing and are left out."""
    runs = [r for r in runs if r.verdict in JUDGED]
    outcomes: dict[str, set[bool]] = {}
    for run in runs:
        for check in run.checks:
            outcomes.setdefault(check.key, set()).add(check.passed)
    for run in runs:
        present = {c.key for c in run.checks}
        for key, seen in outcomes.items():
            if key.endswith(f"[{ABORT_PHASE}]") and key not in present:
                seen.add(True)
    return tuple(key for key, seen in outcomes.items() if len(seen) > 1)


def repeat_result(scenario: str, runs: Sequence[RunRecord]) -> RepeatResult:
    """Spreads and flakiness of a scenario's repetitions."""
    figures = []
    for figure in FIGURES:
        values = tuple(r.figures.get(figure.name) for r in runs)
        if all(v is None for v in values):
            continue
        figures.append(FigureSpread(figure, values, spread([v for v in values if v is not None])))
    return RepeatResult(scenario, tuple(runs), tuple(figures), flipped_checks(runs))
