"""Built-in workload for the reference stack: a read/write/read-back mix.

``GET /`` (read), ``POST /items`` (write) and ``GET /items/{id}`` (read back
an id this worker wrote). Every write carries a payload unique across the run
(run id, process id, sequence), so a later durability check can find it.
"""

from __future__ import annotations

import os
import random
from collections import deque
from itertools import count
from typing import Any, ClassVar

from locust import FastHttpUser, constant, task

from harness.load.config import LoadConfig
from harness.load.outcome import unanswered
from harness.records import ITEM_CONTEXT_KEY, TIMED_OUT_ITEM

# Ids this worker process wrote; bounded so a long run cannot grow without limit.
WRITTEN_IDS: deque[str] = deque(maxlen=10_000)
_SEQ = count()
_INSTANCES = count()


class ReferenceUser(FastHttpUser):
    """The built-in user; configured from the run's LoadConfig when the test starts."""

    config: ClassVar[LoadConfig | None] = None
    wait_time = constant(0)
    network_timeout = 2.0
    connection_timeout = 2.0
    # one connection per user instance, like a browser tab; the open model scales instances
    concurrency = 1

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        cfg = self.config
        self.mix = cfg.mix if cfg else (70.0, 20.0, 10.0)
        self.run_id = cfg.run_id if cfg else "adhoc"
        self.rng = random.Random(((cfg.seed if cfg else 0) << 20) ^ os.getpid() ^ next(_INSTANCES))

    @classmethod
    def configure(cls, cfg: LoadConfig) -> None:
        """Apply the run's timeout, think time and mix to every later instance."""
        cls.config = cfg
        cls.network_timeout = cfg.timeout
        cls.connection_timeout = cfg.timeout
        cls.wait_time = constant(cfg.think_time)

    @task
    def step(self) -> None:
        """One request, chosen by the mix weights."""
        kind = self.rng.choices(("read", "write", "read_item"), self.mix)[0]
        if kind == "write":
            self.write()
        elif kind == "read_item" and WRITTEN_IDS:
            item_id = self.rng.choice(WRITTEN_IDS)
            self.client.get(
                f"/items/{item_id}", name="/items/{id}", context={ITEM_CONTEXT_KEY: item_id}
            )
        else:
            self.client.get("/", name="/")

    def write(self) -> None:
        """POST a unique payload and remember the id the server gave it.

        An acknowledged write (201 with an id) is tagged ``"<id> <key>"`` in the
        request's context, so the recorder's ``item`` column lists every write
        the durability check must find again.
        """
        key = f"{self.run_id}-{os.getpid()}-{next(_SEQ)}"
        with self.client.post(
            "/items", json={"key": key, "run": self.run_id}, name="/items", catch_response=True
        ) as resp:
            if unanswered(int(resp.status_code or 0), resp.request_meta.get("exception")):
                # no complete answer (a timeout, even after a 201 status line): it may have
                # landed, so it is a timed-out write, never a failed one
                resp.request_meta["context"][ITEM_CONTEXT_KEY] = f"{TIMED_OUT_ITEM} {key}"
                return
            if resp.status_code == 201:
                try:
                    item_id = str(resp.json()["id"])
                except (ValueError, KeyError, TypeError):
                    resp.failure("201 without a JSON id")
                    return
                WRITTEN_IDS.append(item_id)
                # the request event fires when this block exits, with this very dict
                resp.request_meta["context"][ITEM_CONTEXT_KEY] = f"{item_id} {key}"
