"""The regression gate: a run's figures against the recent runs of its scenario.

The baseline is the scenario's most recent runs before this one that gave the expected
verdict, on the same class of host (engine and cores), optionally without those made on
a busy host. Each figure is judged against its noise band (analysis/noise.py): outside it
on the worse side is a regression, stated with the probability that it is noise; inside
it is "within noise", whatever a single-run comparison would say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from harness.analysis.figures import FIGURES, Figure
from harness.analysis.noise import DEFAULT_K, Band, band, noise_probability, worse_by
from harness.analysis.runrecord import RunRecord

Status = Literal["regressed", "within noise", "better", "not measured", "no baseline"]

DEFAULT_WINDOW = 20  # recent runs a baseline holds at most
DEFAULT_MIN_RUNS = 5  # fewer and the scenario is not judged ("no baseline")


@dataclass(frozen=True)
class GatePolicy:
    """How the gate picks a baseline and how wide the band is."""

    k: float = DEFAULT_K
    window: int = DEFAULT_WINDOW
    min_runs: int = DEFAULT_MIN_RUNS
    exclude_busy: bool = False  # leave runs made on a busy host out of baselines


@dataclass(frozen=True)
class FigureJudgement:
    """One figure of the judged run against its band."""

    figure: str
    label: str
    unit: str
    value: float | None
    status: Status
    band: Band | None = None
    z: float | None = None  # robust standard deviations worse than the median
    # At most this likely to be noise: (baseline runs at least as bad + 1) / (n + 1), the
    # rank of the value among the baseline's, exact for exchangeable runs whatever the
    # shape of the noise. None when the value is not worse than the median.
    p_noise: float | None = None
    p_normal: float | None = None  # the same, were the noise normal (tail beyond z)

    @property
    def regressed(self) -> bool:
        return self.status == "regressed"

    def to_dict(self) -> dict[str, Any]:
        b = self.band
        return {
            "figure": self.figure,
            "unit": self.unit,
            "value": self.value,
            "status": self.status,
            "median": b.centre if b else None,
            "low": b.low if b else None,
            "high": b.high if b else None,
            "scale": b.scale if b else None,
            "baseline_runs": b.n if b else 0,
            "z": _finite(self.z),
            "p_noise": self.p_noise,
            "p_normal": self.p_normal,
        }


@dataclass(frozen=True)
class GateResult:
    """The gate's judgement of one run."""

    scenario: str
    run_id: str
    env_class: str
    verdict: str
    expected: str
    baseline: tuple[str, ...]  # run ids, newest first
    policy: GatePolicy
    judgements: tuple[FigureJudgement, ...] = ()
    excluded_busy: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def judged(self) -> bool:
        return len(self.baseline) >= self.policy.min_runs

    @property
    def verdict_regressed(self) -> bool:
        """The run gave a verdict other than expected where its baseline runs all did."""
        return self.judged and _passing(self.verdict) != self.expected

    @property
    def regressed(self) -> bool:
        return self.verdict_regressed or any(j.regressed for j in self.judgements)

    def regressions(self) -> list[FigureJudgement]:
        return [j for j in self.judgements if j.regressed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "run_id": self.run_id,
            "env_class": self.env_class,
            "verdict": self.verdict,
            "expected": self.expected,
            "judged": self.judged,
            "regressed": self.regressed,
            "verdict_regressed": self.verdict_regressed,
            "baseline": list(self.baseline),
            "excluded_busy": self.excluded_busy,
            "policy": asdict(self.policy),
            "figures": [j.to_dict() for j in self.judgements],
            "notes": list(self.notes),
        }


def _passing(verdict: str) -> str:
    """``unchecked`` counts as a pass, as in a suite's expectations."""
    return "pass" if verdict == "unchecked" else verdict


def _finite(z: float | None) -> float | None:
    return None if z is None or not math.isfinite(z) else z


def select_baseline(
    run: RunRecord, candidates: Sequence[RunRecord], policy: GatePolicy
) -> tuple[list[RunRecord], int]:
    """The baseline runs of ``run`` (newest first) and how many busy-host runs were left out:
    earlier runs of its scenario on its class of host that gave the verdict it expects."""
    eligible = sorted(
        (
            c
            for c in candidates
            if c.scenario == run.scenario
            and c.env_class == run.env_class
            and c.run_id != run.run_id
            and c.started_at < run.started_at
            and _passing(c.verdict) == run.expected
            and (run.repeat is None or c.repeat != run.repeat)
        ),
        key=lambda c: c.started_at,
        reverse=True,
    )
    if policy.exclude_busy:
        quiet = [c for c in eligible if not c.busy]
        return quiet[: policy.window], len(eligible) - len(quiet)
    return eligible[: policy.window], 0


def judge_figure(
    value: float | None, baseline: Sequence[float], figure: Figure, k: float
) -> FigureJudgement:
    """One figure against the band of its baseline values."""
    b = band(baseline, figure, k)
    common = {"figure": figure.name, "label": figure.label, "unit": figure.unit, "value": value}
    if value is None:
        return FigureJudgement(**common, status="not measured", band=b)  # type: ignore[arg-type]
    if b is None:
        return FigureJudgement(**common, status="no baseline")  # type: ignore[arg-type]
    z = worse_by(value, b, figure)
    sign = 1.0 if figure.better == "lower" else -1.0
    as_bad = sum(1 for v in baseline if sign * (v - value) >= -1e-12)
    as_good = sum(1 for v in baseline if sign * (value - v) >= -1e-12)
    if z > k + 1e-9 and as_bad == 0:
        status: Status = "regressed"
    elif z < -k - 1e-9 and as_good == 0:
        status = "better"
    else:
        status = "within noise"
    rank = (as_bad + 1) / (len(baseline) + 1) if z > 0 else None
    normal = noise_probability(z) if z > 0 else None
    return FigureJudgement(**common, status=status, band=b, z=z, p_noise=rank, p_normal=normal)  # type: ignore[arg-type]


def judge(
    run: RunRecord, candidates: Sequence[RunRecord], policy: GatePolicy | None = None
) -> GateResult:
    """Judge a run against the baseline chosen from ``candidates`` (e.g. the history)."""
    pol = policy or GatePolicy()
    base, busy = select_baseline(run, candidates, pol)
    notes: list[str] = []
    if busy:
        notes.append(f"{busy} run(s) on a busy host left out of the baseline")
    if run.busy and run.host is not None:
        notes.append(f"this run: {run.host.note}")
    result = GateResult(
        scenario=run.scenario,
        run_id=run.run_id,
        env_class=run.env_class,
        verdict=run.verdict,
        expected=run.expected,
        baseline=tuple(b.run_id for b in base),
        policy=pol,
        excluded_busy=busy,
    )
    if len(base) < pol.min_runs:
        notes.append(
            f"no baseline: {len(base)} earlier run(s) with the expected verdict on "
            f"{run.env_class}, {pol.min_runs} needed; not judged"
        )
        return replace(result, notes=tuple(notes))
    hashes = {b.scenario_sha256 for b in base} - {None, run.scenario_sha256}
    if hashes and run.scenario_sha256:
        changed = sum(1 for b in base if b.scenario_sha256 != run.scenario_sha256)
        notes.append(f"the scenario file differs from {changed} of the baseline runs")
    judgements = []
    for figure in FIGURES:
        values = [v for b in base if (v := b.figures.get(figure.name)) is not None]
        value = run.figures.get(figure.name)
        if value is None and not values:
            continue  # never measured for this scenario (e.g. no durability check)
        judgements.append(judge_figure(value, values, figure, pol.k))
    return replace(result, judgements=tuple(judgements), notes=tuple(notes))
