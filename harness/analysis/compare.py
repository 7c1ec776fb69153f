"""Regression comparison of two runs' summary.json: availability, p99, time to recover per fault."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.analysis.summary_model import Summary
from harness.errors import ScenarioError
from harness.scenario.units import parse_duration, parse_fraction


@dataclass(frozen=True)
class Tolerances:
    """How much worse the new run may be before it counts as a regression."""

    max_availability_drop: float = 0.005  # absolute, as a fraction (0.5 percentage points)
    max_p99_increase: float = 0.20  # relative to the base p99
    max_ttr_increase: float = 2.0  # seconds, per fault

    @classmethod
    def parse(cls, availability_drop: str, p99_increase: str, ttr_increase: str) -> Tolerances:
        """From CLI text such as ``0.5%``, ``20%`` and ``2s``."""
        try:
            return cls(
                parse_fraction(availability_drop),
                _parse_relative(p99_increase),
                parse_duration(ttr_increase),
            )
        except ValueError as exc:
            raise ScenarioError(
                f"invalid tolerance: {exc}",
                hint="write e.g. --max-availability-drop 0.5% --max-p99-increase 20% "
                "--max-ttr-increase 2s",
            ) from exc


def _parse_relative(text: str) -> float:
    # Unlike parse_fraction, an increase may exceed 100% (e.g. "150%").
    t = text.strip()
    try:
        value = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"expected a percentage such as 20%, found {text!r}") from None
    if not math.isfinite(value):  # a NaN tolerance would make every comparison pass
        raise ValueError(f"a tolerance must be a finite number, found {text!r}")
    if value < 0:
        raise ValueError(f"a tolerance cannot be negative, found {text!r}")
    return value


@dataclass(frozen=True)
class CompareRow:
    """One compared metric."""

    metric: str
    unit: str  # ratio | ms | s
    base: float | None
    new: float | None
    delta: float | None  # new - base
    tolerance: str
    regressed: bool
    note: str = ""


@dataclass(frozen=True)
class CompareResult:
    """All compared metrics; ``regressed`` if any row is beyond its tolerance."""

    base_run: str
    new_run: str
    tolerances: Tolerances
    rows: list[CompareRow] = field(default_factory=list)
    # The runs' own verdicts, shown beside the metrics (an `unchecked` run judged nothing).
    base_verdict: str = ""
    new_verdict: str = ""

    @property
    def regressed(self) -> bool:
        return any(r.regressed for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "hachaos.compare",
            "schema_version": 1,
            "base_run": self.base_run,
            "new_run": self.new_run,
            "tolerances": asdict(self.tolerances),
            "regressed": self.regressed,
            "base_verdict": self.base_verdict,
            "new_verdict": self.new_verdict,
            "rows": [asdict(r) for r in self.rows],
        }


def _delta(base: float | None, new: float | None) -> float | None:
    return None if base is None or new is None else new - base


def _availability(base: Summary, new: Summary, tol: Tolerances) -> CompareRow:
    b, n = base.headline.availability, new.headline.availability
    regressed = b is not None and (n is None or b - n > tol.max_availability_drop + 1e-12)
    return CompareRow(
        "availability overall",
        "ratio",
        b,
        n,
        _delta(b, n),
        f"drop <= {tol.max_availability_drop:.3%}",
        regressed,
    )


def _p99(base: Summary, new: Summary, tol: Tolerances) -> CompareRow:
    b, n = base.headline.p99_ms, new.headline.p99_ms
    note = ""
    if base.latency_kind != new.latency_kind:
        note = f"base is {base.latency_kind}, new is {new.latency_kind}"
    regressed = b is not None and n is not None and n > b * (1 + tol.max_p99_increase) + 1e-9
    return CompareRow(
        "p99 overall",
        "ms",
        b,
        n,
        _delta(b, n),
        f"increase <= {tol.max_p99_increase:.0%}",
        regressed,
        note,
    )


def _ttr_rows(base: Summary, new: Summary, tol: Tolerances) -> list[CompareRow]:
    base_faults = {f.key: f for f in base.faults}
    new_faults = {f.key: f for f in new.faults}
    rows = []
    for key in list(dict.fromkeys([*base_faults, *new_faults])):
        b_fault, n_fault = base_faults.get(key), new_faults.get(key)
        b = b_fault.ttr_s if b_fault else None
        n = n_fault.ttr_s if n_fault else None
        note, regressed = "", False
        if b_fault is None or n_fault is None:
            note = "only in the base run" if n_fault is None else "only in the new run"
        elif not n_fault.recovered:
            regressed = b_fault.recovered
            note = "new run did not recover" + ("" if regressed else " (nor did the base)")
        elif b is not None and n is not None:
            regressed = n - b > tol.max_ttr_increase + 1e-9
        rows.append(
            CompareRow(
                f"time to recover {key}",
                "s",
                b,
                n,
                _delta(b, n),
                f"increase <= {tol.max_ttr_increase:g} s",
                regressed,
                note,
            )
        )
    return rows


def compare_runs(
    base: Summary, new: Summary, tolerances: Tolerances | None = None
) -> CompareResult:
    """Compare two run summaries; the result says which metrics regressed."""
    tol = tolerances or Tolerances()
    rows = [_availability(base, new, tol), _p99(base, new, tol), *_ttr_rows(base, new, tol)]
    return CompareResult(
        base_run=str(base.run.run_id),
        new_run=str(new.run.run_id),
        tolerances=tol,
        rows=rows,
        base_verdict=base.verdict,
        new_verdict=new.verdict,
    )
