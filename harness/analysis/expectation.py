"""A scenario's ``expect:``: the verdict it is meant to give, and whether a run gave it.

A scenario that shows a weakness on purpose expects ``fail`` (or ``aborted``); a
run that gives that verdict is as expected. ``unchecked`` counts as a pass
(nothing failed); ``error`` and ``interrupted`` are never expected.
"""

from __future__ import annotations

EXPECTABLE = ("pass", "fail", "aborted")


def gave_expected(verdict: str, expected: str) -> bool:
    """Whether ``verdict`` is the one the scenario expects."""
    return ("pass" if verdict == "unchecked" else verdict) == expected


def expectation_text(verdict: str, expected: str) -> str:
    """``fail (as expected)`` or ``pass (UNEXPECTED: got fail)``."""
    if gave_expected(verdict, expected):
        return f"{expected} (as expected)"
    return f"{expected} (UNEXPECTED: got {verdict})"
