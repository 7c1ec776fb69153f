"""What the trend page draws: per scenario, each figure over its runs with the band the
gate would have used for each run (the runs before it), and where the verdict flipped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.analysis.figures import FIGURES, Figure
from harness.analysis.gate import GatePolicy, judge_figure, select_baseline
from harness.analysis.runrecord import RunRecord

MAX_RUNS = 200  # newest runs per scenario on one page


@dataclass(frozen=True)
class TrendPoint:
    """One run's value of one figure, with the band of the runs before it."""

    index: int  # position among the scenario's runs on the page, oldest first
    value: float | None
    low: float | None  # the band the gate had for this run (None: too little history)
    high: float | None
    outside: bool  # worse than the band: the gate would have flagged it


@dataclass(frozen=True)
class FigureTrend:
    figure: Figure
    points: tuple[TrendPoint, ...]

    @property
    def measured(self) -> bool:
        return any(p.value is not None for p in self.points)


@dataclass(frozen=True)
class RunMark:
    """A run on the page's time axis."""

    index: int
    run_id: str
    started_at: float
    verdict: str
    as_expected: bool
    busy: bool
    link: str  # the run's report, relative to the page ("" when unknown)
    flip: str  # "pass → fail" when the verdict differs from the previous run's, else ""
    note: str  # the host note, the commit


@dataclass(frozen=True)
class ScenarioTrend:
    scenario: str
    runs: tuple[RunMark, ...]
    figures: tuple[FigureTrend, ...]
    env_classes: tuple[str, ...]

    @property
    def flips(self) -> int:
        return sum(1 for r in self.runs if r.flip)


def scenario_trend(
    scenario: str,
    records: Sequence[RunRecord],
    policy: GatePolicy,
    link: Callable[[RunRecord], str],
    limit: int = MAX_RUNS,
) -> ScenarioTrend:
    """The trend of one scenario's runs (any order in; oldest first out, the newest
    ``limit``). Each point's band comes from the runs before it, as the gate picks them."""
    ordered = sorted((r for r in records if r.scenario == scenario), key=lambda r: r.started_at)
    shown = ordered[-limit:]
    marks, previous = [], None
    for i, r in enumerate(shown):
        flip = f"{previous} → {r.verdict}" if previous is not None and previous != r.verdict else ""
        note = "; ".join(x for x in (r.host.note if r.host else "", (r.git_commit or "")[:10]) if x)
        marks.append(
            RunMark(
                i, r.run_id, r.started_at, r.verdict, r.as_expected, r.busy, link(r), flip, note
            )
        )
        previous = r.verdict
    baselines = [select_baseline(r, ordered, policy)[0] for r in shown]
    figures = []
    for figure in FIGURES:
        points = []
        for i, (r, base) in enumerate(zip(shown, baselines, strict=True)):
            value = r.figures.get(figure.name)
            values = [v for b in base if (v := b.figures.get(figure.name)) is not None]
            b, outside = None, False
            if len(base) >= policy.min_runs and values:
                judged = judge_figure(value, values, figure, policy.k)
                b, outside = judged.band, judged.regressed
            points.append(
                TrendPoint(i, value, b.low if b else None, b.high if b else None, outside)
            )
        trend = FigureTrend(figure, tuple(points))
        if trend.measured:
            figures.append(trend)
    classes = tuple(dict.fromkeys(r.env_class for r in shown))
    return ScenarioTrend(scenario, tuple(marks), tuple(figures), classes)
