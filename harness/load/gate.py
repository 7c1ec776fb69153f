"""The start gate of a pre-spawned load: Locust starts while the stack deploys, waits here.

Importing Locust and the workload takes seconds, so the driver can spawn the
master and workers before the target exists (:meth:`LoadDriver.prespawn`). The
master then holds in its init hook until the driver writes the gate file with
the target URL and the final settings; only then does Locust start the test
(workers get both in the spawn message, as usual). No Locust import here: the
driver writes the gate, the master reads it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GATE_ENV = "HACHAOS_GATE"  # the master waits for this file when the variable is set
GATE_FILE = "go.json"
POLL_S = 0.05


@dataclass(frozen=True)
class Go:
    """What the driver hands the waiting master."""

    target_url: str
    config_json: str  # LoadConfig.to_json() with the real target


def open_gate(path: Path, go: Go) -> None:
    """Write the gate file atomically (the master never reads half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"target_url": go.target_url, "config": go.config_json}))
    os.replace(tmp, path)


def read_gate(path: Path) -> Go | None:
    """The gate's content, or None while it is closed."""
    try:
        raw = json.loads(path.read_text())
        return Go(target_url=str(raw["target_url"]), config_json=str(raw["config"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError):
        return None  # not ours or unreadable: treat as closed (the writer replaces atomically)


def wait_gate(
    path: Path,
    *,
    deadline: float,
    sleep: Callable[[float], object] = time.sleep,
    now: Callable[[], float] = time.time,
) -> Go | None:
    """Poll until the gate opens (its :class:`Go`) or ``deadline`` (epoch s) passes (None).

    The master passes ``gevent.sleep`` so its other greenlets (worker connections,
    heartbeats, the watchdog) keep running while it waits.
    """
    while True:
        go = read_gate(path)
        if go is not None:
            return go
        if now() >= deadline:
            return None
        sleep(POLL_S)
