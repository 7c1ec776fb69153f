"""Outcome classes from status codes and the exceptions HTTP clients raise."""

from __future__ import annotations

import pytest

from harness.load.outcome import classify
from harness.records import OUTCOMES


class Wrapper(Exception):
    """Like requests.ConnectionError: the real cause sits in args."""


@pytest.mark.parametrize(
    ("status", "exc", "expected"),
    [
        (200, None, "ok"),
        (302, None, "ok"),
        (404, None, "http_4xx"),
        (404, ConnectionError("404 Client Error"), "http_4xx"),
        (503, ConnectionError("bad status"), "http_5xx"),
        (0, TimeoutError(), "timeout"),
        (0, ConnectionRefusedError(111, "Connection refused"), "refused"),
        (0, ConnectionResetError(104, "Connection reset by peer"), "reset"),
        (0, BrokenPipeError(), "reset"),
        (0, Wrapper(ConnectionRefusedError(111, "refused")), "refused"),
        (0, ValueError("weird"), "other"),
        (0, None, "other"),
    ],
)
def test_classify(status: int, exc: BaseException | None, expected: str) -> None:
    assert classify(status, exc) == expected
    assert expected in OUTCOMES


def test_cause_chain_is_followed() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert classify(0, outer) == "reset"
