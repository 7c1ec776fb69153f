"""compose/app/acks.py: when the reference app may acknowledge a Redis write.

Replies are written by hand as Redis gives them to ``execute(raise_on_error=False)``:
values, and error replies as exception objects. A wrong rule here turns a lost or
unknown write into an ``ok`` in a consistency history (the safe split brain, 7 Dec).
"""

from __future__ import annotations

import pytest

from tests.conftest import load_module

acks = load_module("compose/app/acks.py")


class ResponseError(Exception):
    """Stands for redis.ResponseError (the app's image has redis-py; this venv does not)."""


class ReadOnlyError(ResponseError):
    """redis-py's class for ``READONLY ...``, message without the code."""


def test_a_write_every_replica_confirmed_is_acknowledged() -> None:
    assert acks.judge([True, 2], 2) == (True, None)


def test_a_write_too_few_replicas_confirmed_is_unknown_not_ok() -> None:
    # SET ran on the primary, WAIT 2 saw 1: a failover may drop it, or keep it
    assert acks.judge([True, 1], 2) == (None, (503, "not replicated: 1 of 2 replicas acknowledged"))
    assert acks.judge([True, 0], 2)[1][0] == 503


def test_without_wait_the_command_reply_is_the_answer() -> None:
    assert acks.judge([b"v1"], 0) == (b"v1", None)
    assert acks.judge([None], 0) == (None, None)  # a missing key is still an answer


def test_a_fenced_read_answers_only_when_the_fence_is_confirmed() -> None:
    assert acks.judge([b"v1", 7, 2], 2) == (b"v1", None)
    assert acks.judge([b"v1", 7, 1], 2)[1] == (503, "not replicated: 1 of 2 replicas acknowledged")


@pytest.mark.parametrize(
    "error",
    [
        ResponseError("NOREPLICAS Not enough good replicas to write."),
        ResponseError(
            "Error running script (call to f_0): @user_script:1: "
            "NOREPLICAS Not enough good replicas to write."
        ),
        ReadOnlyError("You can't write against a read only replica."),
        ResponseError("READONLY You can't write against a read only replica."),
    ],
)
def test_a_refused_command_is_a_definite_failure(error: Exception) -> None:
    reply, (status, why) = acks.judge([error, 0], 2)
    assert (reply, status) == (None, 421)
    assert why.startswith("refused by redis: ")


def test_a_refused_fence_refuses_the_read() -> None:
    refused = ResponseError("NOREPLICAS Not enough good replicas to write.")
    assert acks.judge([b"v1", refused, 0], 2)[1][0] == 421


def test_any_other_error_stays_an_error() -> None:
    # e.g. WRONGTYPE after the command ran somewhere: the caller answers 503 (unknown)
    wrong = ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        acks.judge([wrong, 2], 2)
    # a code only counts as a whole word: a message merely containing it is no refusal
    with pytest.raises(ResponseError):
        acks.judge([ResponseError("ERR key NOREPLICAS_x unknown")], 0)
