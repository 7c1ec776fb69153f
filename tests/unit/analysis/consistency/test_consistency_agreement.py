"""Property tests: the general checker agrees with brute force, the fast one with it."""

from __future__ import annotations

import os

from histories import brute_force_register, op
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.analysis.consistency.history import Op
from harness.analysis.consistency.models import register_calls, register_step
from harness.analysis.consistency.wgl import linearizable
from harness.analysis.consistency.zones import check_key

EXAMPLES = int(os.environ.get("HACHAOS_HYPOTHESIS_EXAMPLES", "400"))  # more: a deeper search
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def register_histories(draw: st.DrawFn, *, cas: bool, unique: bool, max_ops: int = 6) -> list[Op]:
    """Small register histories with overlapping windows on a coarse clock (ties happen)."""
    n = draw(st.integers(1, max_ops))
    ops: list[Op] = []
    written: list[str] = []
    for i in range(n):
        start = draw(st.integers(0, 12))
        end = start + draw(st.integers(0, 6))
        kinds = ["read", "write"] + (["cas"] if cas else [])
        f = draw(st.sampled_from(kinds))
        result = draw(st.sampled_from(["ok", "ok", "ok", "info", "fail"]))
        if f == "write":
            value: object = f"v{i}" if unique else draw(st.sampled_from(["a", "b", "c"]))
            written.append(str(value))
            ops.append(op(i, "write", value, start, end, type=result))
        elif f == "cas":
            pool = ["a", "b", "c", None]
            expected = draw(st.sampled_from(pool))
            new = draw(st.sampled_from(["a", "b", "c"]))
            mismatch = result == "fail" and draw(st.booleans())
            ops.append(op(i, "cas", (expected, new), start, end, type=result, mismatch=mismatch))
        else:
            pool = [None, "a", "b", "c", *written, "never"]
            value = draw(st.sampled_from(pool)) if result == "ok" else None
            ops.append(op(i, "read", value, start, end, type=result))
    # reads may see writes invoked later: draw the read values from every write's value
    values = [o.value for o in ops if o.f == "write"]
    out = []
    for o in ops:
        if o.f == "read" and o.type == "ok" and values and draw(st.booleans()):
            out.append(op(o.index, "read", draw(st.sampled_from(values)), o.invoke, o.complete))
        else:
            out.append(o)
    return out


def _general(ops: list[Op]) -> bool:
    calls, _ = register_calls(ops)
    return linearizable(calls, None, register_step).verdict == "ok"


@SETTINGS
@given(register_histories(cas=True, unique=False))
def test_general_checker_agrees_with_brute_force(ops: list[Op]) -> None:
    verdict = brute_force_register(ops)
    event("linearizable" if verdict else "not linearizable")
    assert _general(ops) == verdict


@SETTINGS
@given(register_histories(cas=False, unique=True, max_ops=7))
def test_fast_checker_agrees_with_general_checker(ops: list[Op]) -> None:
    verdict = _general(ops)
    event("linearizable" if verdict else "not linearizable")
    assert check_key("k", ops).linearizable == verdict


@settings(max_examples=200, deadline=None)
@given(register_histories(cas=False, unique=True, max_ops=5))
def test_fast_checker_agrees_with_brute_force(ops: list[Op]) -> None:
    assert check_key("k", ops).linearizable == brute_force_register(ops)
