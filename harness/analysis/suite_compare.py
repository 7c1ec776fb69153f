"""Regressions between two suites, scenario by scenario (each pair of runs with compare_runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.analysis.compare import CompareResult, Tolerances, compare_runs
from harness.analysis.summary_model import Summary

# How bad a verdict is; a higher rank in the new suite than in the base is a regression.
VERDICT_RANK = {"pass": 0, "unchecked": 0, "fail": 1, "aborted": 1}  # else (error …): 2

SuiteRuns = Mapping[str, tuple[str, Summary | None]]
"""{scenario: (verdict, the run's summary or None)}, in suite order."""


@dataclass(frozen=True)
class ScenarioComparison:
    """One scenario of both suites."""

    scenario: str
    base_verdict: str | None  # None: not in the base suite
    new_verdict: str | None  # None: not in the new suite
    result: CompareResult | None  # None unless both runs left a summary
    note: str = ""

    @property
    def verdict_regressed(self) -> bool:
        if self.base_verdict is None or self.new_verdict is None:
            return False
        return VERDICT_RANK.get(self.new_verdict, 2) > VERDICT_RANK.get(self.base_verdict, 2)

    @property
    def regressed(self) -> bool:
        return self.verdict_regressed or (self.result is not None and self.result.regressed)

    def regressed_metrics(self) -> list[str]:
        """The metrics beyond their tolerance, the verdict first."""
        names = ["verdict"] if self.verdict_regressed else []
        if self.result is not None:
            names += [r.metric for r in self.result.rows if r.regressed]
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "base_verdict": self.base_verdict,
            "new_verdict": self.new_verdict,
            "regressed": self.regressed,
            "regressed_metrics": self.regressed_metrics(),
            "note": self.note,
            "rows": [asdict(r) for r in self.result.rows] if self.result else [],
        }


@dataclass(frozen=True)
class SuiteComparison:
    """Every scenario of either suite; ``regressed`` if any scenario regressed."""

    base: str
    new: str
    tolerances: Tolerances
    scenarios: list[ScenarioComparison] = field(default_factory=list)

    @property
    def regressed(self) -> bool:
        return any(s.regressed for s in self.scenarios)

    def to_dict(self) -> dict[str, Any]:
        head = {"schema": "hachaos.suite-compare", "schema_version": 1}
        scenarios = [s.to_dict() for s in self.scenarios]
        return {
            **head,
            **{"base": self.base, "new": self.new, "tolerances": asdict(self.tolerances)},
            "regressed": self.regressed,
            "scenarios": scenarios,
        }


def compare_suites(
    base: SuiteRuns, new: SuiteRuns, tolerances: Tolerances | None = None, *, names: tuple[str, str]
) -> SuiteComparison:
    """Compare the runs of each scenario present in both suites; list the others with a note."""
    tol = tolerances or Tolerances()
    rows = []
    for scenario in dict.fromkeys([*new, *base]):
        b, n = base.get(scenario), new.get(scenario)
        result, note = None, ""
        if b is None:
            note = "only in the new suite"
        elif n is None:
            note = "only in the base suite"
        elif b[1] is None or n[1] is None:
            note = "no summary in the " + ("base" if b[1] is None else "new") + " suite"
        else:
            result = compare_runs(b[1], n[1], tol)
        rows.append(
            ScenarioComparison(
                scenario,
                b[0] if b else None,
                n[0] if n else None,
                result,
                note,
            )
        )
    return SuiteComparison(names[0], names[1], tol, rows)
