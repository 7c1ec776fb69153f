"""The workload of ``load.requests``: one generated user class that sends the declared requests.

Each task picks one request by weight, fills its templates (see
:mod:`harness.scenario.templates`) and classifies the answer by its ``expect``
list: the recorder then sees it like any other request, so the open model,
corrected latency and every report work unchanged. With the generic
durability check, its ``write`` is one more request of the list: an
acknowledged write is tagged ``"<id> <key>"`` (id percent-encoded) and a write
that got no response ``"? <key>"`` in the samples' ``item`` column.
"""

from __future__ import annotations

import json
import random
import urllib.parse
import uuid
from collections import deque
from dataclasses import dataclass
from itertools import count
from typing import Any, ClassVar

from locust import FastHttpUser, constant, task

from harness.load.config import LoadConfig
from harness.load.outcome import unanswered
from harness.load.workloads.requests_config import (
    EXTRA_DURABLE,
    EXTRA_DURABLE_ID,
    EXTRA_REQUESTS,
    expected,
    failed_outcome,
    pick,
    request_kwargs,
)
from harness.records import ITEM_CONTEXT_KEY, OUTCOME_CONTEXT_KEY, TIMED_OUT_ITEM
from harness.scenario.httpspec import DurableWrite, RequestSpec
from harness.scenario.templates import (
    CAPTURED_PREFIX,
    JsonPath,
    parse_json_path,
    scalar_text,
)

CAPTURE_KEEP = 10_000  # values kept per capture name and process (a random one is used)

# Values captured by this process, by name; bounded so a long run cannot grow without limit.
CAPTURED: dict[str, deque[str]] = {}
_SEQ = count(1)
_INSTANCES = count()


@dataclass(frozen=True)
class Entry:
    """One request the user may send: its spec, parsed captures and what it needs."""

    spec: RequestSpec | DurableWrite
    captures: tuple[tuple[str, JsonPath], ...]
    needs: frozenset[str]
    durable_id: JsonPath | None  # set for the durability write

    def ready(self) -> bool:
        return all(CAPTURED.get(n) for n in self.needs)


def entries_from(cfg: LoadConfig) -> list[Entry]:
    """The request entries of a run's LoadConfig (re-validated: the config crossed a process)."""
    out: list[Entry] = []
    for raw in cfg.extra.get(EXTRA_REQUESTS, ()):
        spec = RequestSpec.model_validate(raw)
        captures = tuple((n, parse_json_path(p)) for n, p in spec.capture.items())
        out.append(Entry(spec, captures, frozenset(spec.needs()), None))
    durable = cfg.extra.get(EXTRA_DURABLE)
    if durable:
        write = DurableWrite.model_validate(durable)
        out.append(Entry(write, (), frozenset(), parse_json_path(cfg.extra[EXTRA_DURABLE_ID])))
    return out


class DeclarativeUser(FastHttpUser):
    """Sends ``load.requests`` (and the durability write); configured when the test starts."""

    config: ClassVar[LoadConfig | None] = None
    entries: ClassVar[list[Entry]] = []
    wait_time = constant(0)
    network_timeout = 2.0
    connection_timeout = 2.0
    concurrency = 1  # one connection per instance, like the built-in user

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        cfg = self.config
        self.run_id = cfg.run_id if cfg else "adhoc"
        seed = cfg.seed if cfg else 0
        self.rng = random.Random((seed << 20) ^ next(_INSTANCES) ^ id(self))

    @classmethod
    def configure(cls, cfg: LoadConfig) -> None:
        """Apply the run's requests, timeout and think time to every later instance."""
        cls.config = cfg
        cls.entries = entries_from(cfg)
        cls.network_timeout = cfg.timeout
        cls.connection_timeout = cfg.timeout
        cls.wait_time = constant(cfg.think_time)

    def pick(self) -> Entry | None:
        """One entry by weight; one whose captures are not there yet yields to a ready one."""
        entries = self.entries
        index = pick([e.spec.weight for e in entries], [e.ready() for e in entries], self.rng)
        return None if index is None else entries[index]

    @task
    def step(self) -> None:
        """One request, chosen by weight."""
        entry = self.pick()
        if entry is not None:
            self.send(entry)

    def values(self, entry: Entry) -> dict[str, str]:
        values = {"seq": str(next(_SEQ)), "uuid": str(uuid.uuid4()), "run_id": self.run_id}
        for name in entry.needs:
            values[CAPTURED_PREFIX + name] = self.rng.choice(CAPTURED[name])
        if entry.durable_id is not None:
            values["key"] = f"{self.run_id}-{uuid.uuid4().hex}"
        return values

    def send(self, entry: Entry) -> None:
        """Fill the templates, send, classify by ``expect``, keep captures."""
        spec = entry.spec
        values = self.values(entry)
        path, kwargs = request_kwargs(spec, values)
        with self.client.request(
            spec.method, path, name=spec.label(), catch_response=True, **kwargs
        ) as resp:
            ctx = resp.request_meta["context"]
            status = int(resp.status_code or 0)
            # no complete response (none at all, or a body that never arrived after its
            # status line): Locust reports the error (timeout, reset, ...); a write may have landed
            if unanswered(status, resp.request_meta.get("exception")):
                if entry.durable_id is not None:
                    ctx[ITEM_CONTEXT_KEY] = f"{TIMED_OUT_ITEM} {values['key']}"
                return
            if not expected(spec, status):
                resp.failure(f"unexpected status {status}")
                outcome = failed_outcome(status)
                if outcome:
                    ctx[OUTCOME_CONTEXT_KEY] = outcome
                return
            if entry.captures or entry.durable_id is not None:
                try:
                    document = json.loads(resp.content or b"null")
                except ValueError:
                    document = None
                self.keep(entry, document)
                if entry.durable_id is not None:
                    found, value = entry.durable_id.find(document)
                    text = scalar_text(value) if found else None
                    if text is None:
                        resp.failure("acknowledged without a usable id at the `id` path")
                        return
                    ctx[ITEM_CONTEXT_KEY] = f"{urllib.parse.quote(text, safe='')} {values['key']}"
            resp.success()
            ctx[OUTCOME_CONTEXT_KEY] = "ok"

    @staticmethod
    def keep(entry: Entry, document: Any) -> None:
        for name, path in entry.captures:
            found, value = path.find(document)
            text = scalar_text(value) if found else None
            if text is not None:
                CAPTURED.setdefault(name, deque(maxlen=CAPTURE_KEEP)).append(text)
