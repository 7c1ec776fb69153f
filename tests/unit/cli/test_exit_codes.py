"""The documented exit codes, shared by `run`, `suite` and `report`."""

from __future__ import annotations

import pytest

from harness.cli.output import verdict_exit_code


@pytest.mark.parametrize(
    ("verdict", "signal_name", "code"),
    [
        ("pass", None, 0),
        ("fail", None, 1),
        ("unchecked", None, 0),
        ("error", None, 3),
        ("interrupted", None, 130),
        ("interrupted", "SIGINT", 130),
        ("interrupted", "SIGTERM", 143),
        ("error", "SIGTERM", 143),  # a signal ended the run: that is what the caller must see
        ("interrupted", "NOT-A-SIGNAL", 130),
    ],
)
def test_verdict_exit_code(verdict: str, signal_name: str | None, code: int) -> None:
    assert verdict_exit_code(verdict, signal_name) == code
