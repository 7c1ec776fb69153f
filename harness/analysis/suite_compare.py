"""Regressions between two suites, scenario by scenario (each pair of runs with compare_runs).

Each scenario is judged against its ``expect:`` (the new suite's): a scenario that
shows a weakness on purpose and still gives its expected ``fail`` is not a
regression, whatever its figures did (they are shown, not judged); one whose
expected failure flipped to a pass is reported as such (the weakness it shows is
gone, or the scenario no longer exercises it) without counting as a regression.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from harness.analysis.compare import CompareResult, Tolerances, compare_runs
from harness.analysis.expectation import gave_expected
from harness.analysis.summary_model import Summary

# How bad a verdict is; a higher rank in the new suite than in the base is a regression.
VERDICT_RANK = {"pass": 0, "unchecked": 0, "fail": 1, "aborted": 1}  # else (error …): 2


class SuiteRun(NamedTuple):
    """One scenario's run in a suite."""

    verdict: str
    summary: Summary | None
    expected: str = "pass"  # the scenario's `expect:`


SuiteRuns = Mapping[str, SuiteRun]
"""{scenario: its run}, in suite order."""


@dataclass(frozen=True)
class ScenarioComparison:
    """One scenario of both suites."""

    scenario: str
    base_verdict: str | None  # None: not in the base suite
    new_verdict: str | None  # None: not in the new suite
    result: CompareResult | None  # None unless both runs left a summary
    note: str = ""
    base_expected: str = "pass"
    new_expected: str = "pass"

    @property
    def new_as_expected(self) -> bool:
        return self.new_verdict is not None and gave_expected(self.new_verdict, self.new_expected)

    @property
    def expected_failure_held(self) -> bool:
        """A scenario meant to fail (or abort) did so again: its figures are not judged."""
        return self.new_expected != "pass" and self.new_as_expected

    @property
    def expected_failure_flipped(self) -> bool:
        """A scenario meant to fail gave its failure in the base suite and passes in the new."""
        return (
            self.new_expected != "pass"
            and self.base_verdict is not None
            and gave_expected(self.base_verdict, self.base_expected)
            and self.new_verdict is not None
            and gave_expected(self.new_verdict, "pass")
        )

    @property
    def verdict_regressed(self) -> bool:
        """A worse verdict than the base's that is not the one the scenario expects."""
        if self.base_verdict is None or self.new_verdict is None or self.new_as_expected:
            return False
        return VERDICT_RANK.get(self.new_verdict, 2) > VERDICT_RANK.get(self.base_verdict, 2)

    @property
    def regressed(self) -> bool:
        figures = self.result is not None and self.result.regressed
        return self.verdict_regressed or (figures and not self.expected_failure_held)

    @property
    def expectation(self) -> str:
        """What the expectation did between the suites ("" for an ordinary pass-pass)."""
        if self.expected_failure_flipped:
            return f"expected {self.new_expected}, now passes: UNEXPECTED"
        if self.expected_failure_held:
            return f"still {self.new_verdict} as expected"
        if self.new_expected != "pass" and self.new_verdict is not None:
            return f"expected {self.new_expected}, got {self.new_verdict}"
        return ""

    def regressed_metrics(self) -> list[str]:
        """The metrics beyond their tolerance, the verdict first."""
        names = ["verdict"] if self.verdict_regressed else []
        if self.result is not None and not self.expected_failure_held:
            names += [r.metric for r in self.result.rows if r.regressed]
        return names

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "base_verdict": self.base_verdict,
            "new_verdict": self.new_verdict,
            "base_expected": self.base_expected,
            "new_expected": self.new_expected,
            "expected_failure_flipped": self.expected_failure_flipped,
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

    @property
    def flipped(self) -> list[str]:
        """Scenarios whose expected failure now passes."""
        return [s.scenario for s in self.scenarios if s.expected_failure_flipped]

    def to_dict(self) -> dict[str, Any]:
        head = {"schema": "hachaos.suite-compare", "schema_version": 1}
        scenarios = [s.to_dict() for s in self.scenarios]
        return {
            **head,
            **{"base": self.base, "new": self.new, "tolerances": asdict(self.tolerances)},
            "regressed": self.regressed,
            "expected_failures_flipped": self.flipped,
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
        elif b.summary is None or n.summary is None:
            note = "no summary in the " + ("base" if b.summary is None else "new") + " suite"
        else:
            result = compare_runs(b.summary, n.summary, tol)
        expected = n.expected if n is not None else b.expected if b is not None else "pass"
        if b is not None and n is not None and b.expected != n.expected:
            note = f"expect changed: {b.expected} → {n.expected}" + (f"; {note}" if note else "")
        rows.append(
            ScenarioComparison(
                scenario,
                b.verdict if b else None,
                n.verdict if n else None,
                result,
                note,
                base_expected=b.expected if b else expected,
                new_expected=expected,
            )
        )
    return SuiteComparison(names[0], names[1], tol, rows)
