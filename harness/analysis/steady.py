"""Steady-state probes: judge one HTTP answer, and turn the run's steady events into checks.

Pure: the wiring (harness/run/guards.py) makes the request and hands over the
status, body and latency; this module says whether the probe held and what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.analysis.slo import CheckResult
from harness.records import EV_STEADY
from harness.scenario.guards import SteadyProbe
from harness.scenario.templates import parse_json_path

STAGES = ("before", "after")
_SHOWN = 80  # characters of a value shown in a message


@dataclass(frozen=True)
class Answer:
    """What one GET returned (``status`` 0 and ``error`` set when there was no answer)."""

    status: int
    body: bytes
    latency_ms: float
    error: str = ""


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    ok: bool
    saw: str  # what failed, or a short description of the good answer
    status: int
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def judge(probe: SteadyProbe, answer: Answer) -> ProbeResult:
    """Whether ``answer`` satisfies ``probe``: status, then latency, then the JSON value."""

    def result(ok: bool, saw: str) -> ProbeResult:
        return ProbeResult(probe.label, ok, saw, answer.status, round(answer.latency_ms, 3))

    if answer.error:
        return result(False, f"no answer: {answer.error}")
    if answer.status not in probe.status:
        wanted = ", ".join(str(s) for s in probe.status)
        return result(False, f"status {answer.status}, expected {wanted}")
    if probe.max_latency is not None and answer.latency_ms > round(probe.max_latency * 1000.0, 6):
        return result(
            False,
            f"answered in {answer.latency_ms:.1f} ms, bound {probe.max_latency * 1000:g} ms",
        )
    if probe.json_ is not None:
        expect = probe.json_
        try:
            doc = json.loads(answer.body)
        except ValueError:
            return result(False, "the body is not JSON")
        found, got = parse_json_path(expect.path).find(doc)  # validated by the model
        if not found:
            return result(False, f"{expect.path} not found")
        # JSON has no int/float/bool distinction worth failing on, except bool vs number.
        same = got == expect.equals and isinstance(got, bool) == isinstance(expect.equals, bool)
        if not same:
            return result(False, f"{expect.path} = {_short(got)}, expected {_short(expect.equals)}")
    return result(True, f"status {answer.status} in {answer.latency_ms:.1f} ms")


def first_failure(results: Sequence[ProbeResult]) -> ProbeResult | None:
    return next((r for r in results if not r.ok), None)


def not_steady_message(failed: ProbeResult) -> str:
    """The run's error when the system is not steady before the faults."""
    return f"system not steady: {failed.probe}: {failed.saw}"


def steady_rounds(events: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``{stage: [probe result dicts]}`` from the run's steady events (later rounds win)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.get("kind") == EV_STEADY and e.get("stage") in STAGES:
            out[str(e["stage"])] = [dict(r) for r in e.get("results") or []]
    return out


def steady_checks(
    rounds: Mapping[str, Sequence[Mapping[str, Any]]], expected: bool
) -> list[CheckResult]:
    """One check per probe and stage; an ``after`` round that never ran fails when ``expected``."""
    checks: list[CheckResult] = []
    for stage in STAGES:
        results = rounds.get(stage)
        when = "before the faults" if stage == "before" else "after the cooldown"
        if results is None:
            if stage == "after" and expected and "before" in rounds and _all_ok(rounds["before"]):
                checks.append(
                    CheckResult(
                        name=f"steady state {when}",
                        phase=f"steady:{stage}",
                        measured=None,
                        threshold=1.0,
                        unit="probes",
                        passed=False,
                        detail="not checked: the run ended before the end of the cooldown",
                    )
                )
            continue
        for r in results:
            checks.append(
                CheckResult(
                    name=f"steady state {when}: {r.get('probe')}",
                    phase=f"steady:{stage}",
                    measured=float(bool(r.get("ok"))),
                    threshold=1.0,
                    unit="holds",
                    passed=bool(r.get("ok")),
                    detail=str(r.get("saw") or ""),
                )
            )
    return checks


def _all_ok(results: Sequence[Mapping[str, Any]]) -> bool:
    return all(bool(r.get("ok")) for r in results)
