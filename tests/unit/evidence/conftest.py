"""Fixtures for the evidence tests: several processes doing one thing at the same moment."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

FanOut = Callable[[Callable[..., None], tuple[Any, ...], int], list[Any]]


def _fan_out(target: Callable[..., None], args: tuple[Any, ...], procs: int) -> list[Any]:
    """Fork ``procs`` children running ``target(*args, barrier, out)`` (the barrier lines
    them up; each puts one list on ``out``) and return all their items."""
    ctx = multiprocessing.get_context("fork")  # children inherit the test's monkeypatches
    barrier, out = ctx.Barrier(procs), ctx.Queue()
    children = [ctx.Process(target=target, args=(*args, barrier, out)) for _ in range(procs)]
    for child in children:
        child.start()
    items = [item for _ in children for item in out.get(timeout=30)]
    for child in children:
        child.join(timeout=30)
    return items


@pytest.fixture
def fan_out() -> FanOut:
    return _fan_out
