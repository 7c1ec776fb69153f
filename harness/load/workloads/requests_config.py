"""What the driver hands the declarative workload through ``LoadConfig.extra`` (no Locust here).

The driver must not import Locust, so the keys, the serialisation and the
status rules live apart from :mod:`harness.load.workloads.declarative`.
"""

from __future__ import annotations

import random
import urllib.parse
from collections.abc import Sequence
from typing import Any

from harness.scenario.httpspec import DurableWrite, RequestSpec
from harness.scenario.models import DurabilityCheck, Load
from harness.scenario.templates import render, render_body

EXTRA_REQUESTS = "requests"
EXTRA_DURABLE = "durable_write"
EXTRA_DURABLE_ID = "durable_id"


def requests_extra(load: Load, durability: DurabilityCheck | None) -> dict[str, Any]:
    """``LoadConfig.extra`` for a run: the declared requests and the durability write, as JSON."""
    if not load.requests:
        return {}
    extra: dict[str, Any] = {
        EXTRA_REQUESTS: [r.model_dump(mode="json", by_alias=True) for r in load.requests]
    }
    if durability is not None and durability.write is not None and durability.id is not None:
        extra[EXTRA_DURABLE] = durability.write.model_dump(mode="json", by_alias=True)
        extra[EXTRA_DURABLE_ID] = durability.id
    return extra


def expected(spec: RequestSpec | DurableWrite, status: int) -> bool:
    """Whether ``status`` succeeds for this request (no ``expect``: any 2xx or 3xx)."""
    if spec.expect is None:
        return 200 <= status < 400
    return status in spec.expect


def failed_outcome(status: int) -> str | None:
    """The outcome of an unexpected status: 4xx/5xx keep their class, others get their own."""
    return None if 400 <= status < 600 else "unexpected_status"


def pick(weights: Sequence[float], ready: Sequence[bool], rng: random.Random) -> int | None:
    """Index of the request to send, drawn by weight; one whose captured values are not
    there yet yields to a draw among the ready ones (None when none is ready)."""
    if not weights:
        return None
    indexes = range(len(weights))
    chosen = rng.choices(indexes, weights)[0]
    if ready[chosen]:
        return chosen
    candidates = [i for i in indexes if ready[i]]
    if not candidates:
        return None
    return rng.choices(candidates, [weights[i] for i in candidates])[0]


def request_kwargs(spec: Any, values: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The filled path and the client's keyword arguments (headers, a JSON or form body)
    of a templated request (``load.requests``, a durability write, a consistency operation)."""
    kwargs: dict[str, Any] = {
        "headers": {k: render(v, values) for k, v in spec.headers.items()} or None
    }
    if spec.json_ is not None:
        kwargs["json"] = render_body(spec.json_, values)
    elif spec.form is not None:
        kwargs["data"] = urllib.parse.urlencode(
            {k: render(v, values) for k, v in spec.form.items()}
        )
        kwargs["headers"] = {
            "Content-Type": "application/x-www-form-urlencoded",
            **(kwargs["headers"] or {}),
        }
    return render(spec.path, values, quote=True), kwargs
