"""``load.workers``: where the Locust workers run (docs/load.md#distributed-workers).

Exactly one key: ``local`` (processes on this host, as ``load.processes``), ``remote``
(workers started by hand with ``hachaos worker --master HOST:PORT``), or the name of an
engine that places workers beside its stack (``<engine>: {replicas: N}``: a Swarm
service, a Kubernetes Deployment). The engine keys are not written here: the scenario
layer knows no engine. :func:`workers_model` adds one per engine that can place load
workers (capability ``load-workers``), as ``scenario_model`` does for the stacks.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, create_model, field_validator, model_validator

from harness.scenario.base import MAX_TEXT, Strict
from harness.scenario.units import Duration

MAX_WORKERS = 256
LOAD_WORKERS = "load-workers"  # the engine capability (harness/engine/capabilities.py)
IMAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$"


def check_bind_address(text: str) -> str:
    """An IP address to listen on (never a name: the master binds exactly it)."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address of this host") from None


def split_listen(text: str) -> tuple[str, int]:
    """``ADDRESS:PORT`` (``[v6]:PORT``) as (address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: give ADDRESS:PORT, e.g. 10.0.0.5:5557")
    return check_bind_address(host), int(port)


class PlacedWorkers(Strict):
    """Workers the stack's engine runs beside the stack, spread over its nodes."""

    replicas: int = Field(ge=1, le=MAX_WORKERS, description="how many worker processes")
    image: str | None = Field(
        default=None,
        max_length=MAX_TEXT,
        pattern=IMAGE_PATTERN,
        description="the worker image, present on (or pullable by) every node; default: "
        "hachaos builds hachaos-worker:<hash> (this hachaos and its Locust) on the engine "
        "it talks to, and other nodes need it loaded",
    )
    listen: str | None = Field(
        default=None,
        max_length=64,
        description="the address the master listens on; default: the address of this host "
        "that the engine's workers reach (never all interfaces)",
    )
    join_timeout: Duration = Field(
        default=120.0, gt=0, le=3600, description="wait this long for every worker to join"
    )

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_bind_address(value)


class RemoteWorkers(Strict):
    """Workers started by hand (``hachaos worker --master ADDRESS:PORT``), anywhere."""

    count: int = Field(ge=1, le=MAX_WORKERS, description="how many workers the run waits for")
    listen: str = Field(
        max_length=64,
        description="ADDRESS:PORT the master listens on: an address of this host the workers "
        "reach (never all interfaces unless you write 0.0.0.0)",
    )
    join_timeout: Duration = Field(
        default=300.0, gt=0, le=3600, description="wait this long for every worker to join"
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        address, port = split_listen(value)
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Workers(Strict):
    """Where the Locust workers run: give exactly one key."""

    local: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] | None = Field(
        default=None, description="worker processes on this host; auto = one per core"
    )
    remote: RemoteWorkers | None = Field(
        default=None, description="workers started by hand on other machines"
    )
    # workers_model adds `<engine>: {replicas: N, ...}` for each engine that places workers

    @model_validator(mode="after")
    def _one_key(self) -> Workers:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        # a recorded scenario dumps every engine's key, the ones not given as null
        given += [k for k, v in (self.model_extra or {}).items() if v is not None]
        if len(given) != 1:
            keys = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one of {keys}; found {', '.join(given) or 'none'}")
        return self

    def placement(self) -> tuple[str, PlacedWorkers] | None:
        """(engine name, spec) when an engine places the workers."""
        for name in type(self).model_fields:
            if name in ("local", "remote"):
                continue
            value = getattr(self, name)
            if isinstance(value, PlacedWorkers):
                return name, value
        for name, value in (self.model_extra or {}).items():  # a recorded scenario
            if value is not None:
                return name, PlacedWorkers.model_validate(value)
        return None

    def count(self) -> int | Literal["auto"]:
        """How many workers in all (``auto``: one per core, local only)."""
        if self.local is not None:
            return self.local
        if self.remote is not None:
            return self.remote.count
        placed = self.placement()
        assert placed is not None
        return placed[1].replicas


class RecordedWorkers(Workers):
    """``load.workers`` as a run folder recorded it: any engine's key."""

    model_config = ConfigDict(extra="allow")


def workers_model(engines: list[str], *, recorded: bool = False) -> type[Workers]:
    """The Workers model with one ``<engine>`` key per engine that places workers."""
    if recorded:
        return RecordedWorkers
    fields: dict[str, Any] = {
        name: (
            PlacedWorkers | None,
            Field(default=None, description=f"a group of workers the {name} engine places"),
        )
        for name in engines
    }
    model = create_model("Workers", __base__=Workers, __module__=__name__, **fields)
    model.__doc__ = Workers.__doc__
    return model
