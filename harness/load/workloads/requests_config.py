"""What the driver hands the declarative workload through ``LoadConfig.extra`` (no Locust here).

The driver must not import Locust, so the keys and the serialisation live
apart from :mod:`harness.load.workloads.declarative`, which reads them back.
"""

from __future__ import annotations

from typing import Any

from harness.scenario.models import DurabilityCheck, Load

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
