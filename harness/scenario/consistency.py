"""Scenario model of ``checks.consistency``: a register or list workload over any HTTP API.

The operations are declared like ``load.requests`` (paths, methods, headers,
JSON or form bodies, with placeholders) and their results read with JSON paths;
no code. Placeholders: ``{key}`` (the key, rotating), ``{value}`` (unique per
key: the value written, the element appended, a cas's new value),
``{expected}`` (a cas's expected value), ``{process}`` and ``{run_id}``.

How an answer becomes an outcome (Jepsen's): an ``expect`` status is ``ok``;
a ``fail`` status (default: every 4xx except 408) is ``fail``, the operation
did not happen; for a cas, a ``mismatch`` status is a definite "the value was
not the expected one"; anything else (a 5xx, a timeout, a reset after
sending) is ``info``: it may or may not have happened. A refused connection is
``fail``. A read's ``missing`` status means the key has no value yet.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from harness.scenario.base import Strict
from harness.scenario.httpspec import (
    MAX_STATUSES,
    MAX_WEIGHT,
    JsonPathText,
    Method,
    PathTemplate,
    Status,
    _json_path,
    _Sent,
)
from harness.scenario.units import Duration, Fraction

MAX_OPS_PER_KEY = 10_000
MAX_KEYS = 64
MAX_FINAL_KEYS = 100_000
OP_PLACEHOLDERS = frozenset({"key", "value", "expected", "process", "run_id"})
DEFAULT_FAIL = tuple(s for s in range(400, 500) if s != 408)


class ConsistencyOp(_Sent):
    """One operation of the workload: the request, and which statuses mean what."""

    PLACEHOLDERS: ClassVar[frozenset[str]] = OP_PLACEHOLDERS

    path: PathTemplate = Field(description="path template on the target, e.g. /kv/{key}")
    method: Method = Field(default="POST", description="HTTP method")
    expect: list[Status] | None = Field(
        default=None, max_length=MAX_STATUSES, description="statuses of `ok`; none = any 2xx"
    )
    fail: list[Status] | None = Field(
        default=None,
        max_length=100,
        description="statuses that mean it did not happen; none = every 4xx but 408",
    )

    def fail_statuses(self) -> frozenset[int]:
        """The ``fail`` statuses, defaults filled in."""
        return frozenset(DEFAULT_FAIL if self.fail is None else self.fail)


class ConsistencyRead(ConsistencyOp):
    """The read: ``value`` is the JSON path of the value (register) or the list (list-append)."""

    method: Literal["GET", "POST", "PUT"] = Field(default="GET", description="HTTP method")
    value: JsonPathText = Field(
        description="JSON path of the value (register: text or number; list-append: a list)"
    )
    missing: list[Status] = Field(
        default_factory=lambda: [404],
        max_length=MAX_STATUSES,
        description="statuses that mean the key has no value yet (nil, or the empty list)",
    )

    @field_validator("value")
    @classmethod
    def _path(cls, text: str) -> str:
        return _json_path(text)


class ConsistencyCas(ConsistencyOp):
    """Compare-and-set: ``{expected}`` the value it must find, ``{value}`` the new one."""

    method: Literal["POST", "PUT", "PATCH"] = Field(default="POST", description="HTTP method")
    mismatch: list[Status] = Field(
        default_factory=lambda: [409, 412],
        max_length=MAX_STATUSES,
        description="statuses that mean the value was not the expected one",
    )


class ConsistencyMix(Strict):
    """Relative weights of the operations (0 leaves one out)."""

    read: float = Field(default=50, ge=0, le=MAX_WEIGHT, description="reads")
    write: float = Field(default=40, ge=0, le=MAX_WEIGHT, description="register: writes")
    cas: float = Field(default=10, ge=0, le=MAX_WEIGHT, description="register: compare-and-set")
    append: float = Field(default=50, ge=0, le=MAX_WEIGHT, description="list-append: appends")


class FinalReads(Strict):
    """Jepsen's final-read phase: after the faults are reverted and the stack has settled,
    read every key of the history once more (until a read succeeds, a few tries each).

    The reads are recorded in the history like the others (their own processes,
    ``phase: final``), so "lost appends" and "lost writes" are judged against a
    read that nothing could still be racing with. ``false`` turns the phase off.
    """

    settle: Duration = Field(
        default=5.0,
        ge=0,
        le=600,
        description="wait after the faults are reverted and the target answers ready",
    )
    timeout: Duration = Field(
        default=30.0, gt=0, le=3600, description="time for all the final reads; past it: unread"
    )
    max_keys: int = Field(
        default=1000, ge=1, le=MAX_FINAL_KEYS, description="keys read at most (history order)"
    )
    attempts: int = Field(
        default=5, ge=1, le=100, description="tries per key until a read succeeds (`ok`)"
    )
    concurrency: int = Field(default=4, ge=1, le=32, description="reads in flight at once")
    read: ConsistencyRead | None = Field(
        default=None, description="another request for the final reads; default: `read`"
    )


class ConsistencyCheck(Strict):
    """Record a history of reads and writes over rotating keys and check it (docs/consistency.md).

    The operations run inside the load (open model): ``share`` of its arrivals.
    Each Locust user instance is a Jepsen process, one operation at a time; a
    process whose operation timed out is retired and replaced by a new one.
    Keys rotate so that each key sees about ``ops_per_key`` operations, ``keys``
    of them in use at once; values are unique per key. The history is stored
    in the run folder (history.jsonl); the checks: ``register``: linearizability,
    stale reads, read-your-writes, monotonic reads and writes; ``list-append``:
    lost appends, incompatible orders, duplicates, never-acknowledged reads,
    dependency cycles (G0, G1c, G-single, G2), stale reads and the session
    guarantees. Each check fails above ``max_anomalies``, and when its search
    could not decide within ``check_timeout`` (never a pass).
    """

    model: Literal["register", "list-append"] = Field(
        description="register: read, write (and cas); list-append: append, read the whole list"
    )
    read: ConsistencyRead = Field(description="how a key is read")
    write: ConsistencyOp | None = Field(default=None, description="register: how a value is set")
    cas: ConsistencyCas | None = Field(
        default=None, description="register: compare-and-set (optional)"
    )
    append: ConsistencyOp | None = Field(
        default=None, description="list-append: how an element is appended"
    )
    mix: ConsistencyMix = Field(
        default_factory=ConsistencyMix, description="relative weights of the operations"
    )
    share: Fraction = Field(
        default=0.5, description="share of the load's arrivals that are consistency operations"
    )
    ops_per_key: int = Field(
        default=200, ge=10, le=MAX_OPS_PER_KEY, description="operations per key before it rotates"
    )
    keys: int = Field(default=2, ge=1, le=MAX_KEYS, description="keys in use at the same time")
    max_anomalies: int = Field(
        default=0, ge=0, le=1_000_000_000, description="anomalies each check allows"
    )
    check_timeout: Duration = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="bound of the linearizability search over all keys; past it: unknown",
    )
    max_configurations: int = Field(
        default=2_000_000,
        ge=1000,
        le=20_000_000,
        description="bound of the search per key (memory: about 200 bytes each); past it: unknown",
    )
    final_reads: FinalReads | None = Field(
        default_factory=FinalReads,
        description="read every key once more after the faults (Jepsen's final reads);"
        " `false`: none",
    )

    @field_validator("final_reads", mode="before")
    @classmethod
    def _final_reads(cls, value: object) -> object:
        if value is False:
            return None
        return {} if value is True else value

    @model_validator(mode="after")
    def _operations(self) -> ConsistencyCheck:
        if self.share <= 0:
            raise ValueError("`share` must be above 0%: it is the consistency operations' share")
        if self.model == "register":
            if self.write is None:
                raise ValueError("the register model needs `write`")
            if self.append is not None:
                raise ValueError("`append` belongs to the list-append model")
            if self.mix.read + self.mix.write + (self.mix.cas if self.cas else 0) <= 0:
                raise ValueError("the mix gives every register operation weight 0")
        else:
            if self.append is None:
                raise ValueError("the list-append model needs `append`")
            if self.write is not None or self.cas is not None:
                raise ValueError("`write` and `cas` belong to the register model")
            if self.mix.read + self.mix.append <= 0:
                raise ValueError("the mix gives every list operation weight 0")
        return self

    def weights(self) -> dict[str, float]:
        """Weight of each operation this model sends (those declared, above 0)."""
        if self.model == "register":
            out = {"read": self.mix.read, "write": self.mix.write}
            if self.cas is not None:
                out["cas"] = self.mix.cas
        else:
            out = {"read": self.mix.read, "append": self.mix.append}
        return {k: v for k, v in out.items() if v > 0}
