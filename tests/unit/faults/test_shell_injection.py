"""Every string a scenario can give a fault is refused, or stays one quoted shell token.

SCRIPTS enumerates the script builders of harness/faults/ per fault type;
ENGINE_ONLY lists the types that only call the engine API (no shell). A new
fault type must be classified (test_every_fault_type_is_classified).

Each payload is tried twice per field: through validation (refused, or inert
in the scripts), and past validation with ``model_construct`` (the builder
refuses it with FaultError, or it is inert). Inert means: wherever the payload
appears in a script, it lies inside one ``shlex.split`` token that the script
spells exactly as ``shlex.quote`` would, so no shell ever parses it.
"""

from __future__ import annotations

import shlex
import typing
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from harness.engine.containers import Target
from harness.errors import FaultError
from harness.faults import disk, loss, partition, proxied, registry
from harness.faults.base import FaultContext
from harness.faults.catalog import CATALOG, FaultSpec
from harness.faults.crash import Crash, kill_script
from harness.faults.memory import MemoryFault, hog_script
from harness.faults.netns import NetnsFault, helper_script
from harness.scenario import models
from harness.scenario.plan import PlannedFault

PAYLOADS = [
    "/tmp; touch /PWNED; echo",
    "$(touch /PWNED)",
    "`touch /PWNED`",
    "x' ; touch /PWNED ; '",
    'a"b$c',
    "a\nb",
]


class _NoNetem:
    """The engine's helper calls the builders make: this kernel has no netem."""

    def netem_available(self, **_kw: Any) -> bool:
        return False  # so latency is served by the proxy


CTX = FaultContext(project="proj", run_id="run", helpers=_NoNetem())  # type: ignore[arg-type]
CID = "c" * 64
REQUIRED: dict[str, dict[str, Any]] = {
    "loss": {"percent": 0.5},
    "bandwidth": {"rate": "1mbit"},
    "latency": {"delay": 0.1},
    "slow": {"rate": "1mbit"},
    "http-delay": {"delay": 0.1},
    "cpu": {"cpus": 0.5},
    "memory": {"size": "1MiB"},
    "disk": {"path": "/data"},
}
ENGINE_ONLY = {
    "kill",
    "stop",
    "pause",
    "restart",
    "rolling-restart",
    "cpu",
    "scale",
    # Swarm: the service/node API, and psutil for node-loss's SIGSTOP/SIGCONT
    "service-update",
    "service-scale",
    "node-drain",
    "node-loss",
}


def _netns(step: PlannedFault) -> list[str]:
    cls = registry.get(step.type)
    assert issubclass(cls, NetnsFault)
    target = Target(id=CID, name=f"{step.service}-1", service=step.service, number=1)
    s = cls.scripts(step, target, "ab12cd34", CTX)
    return [*s.values(), helper_script(s["apply"], s["revert"], 40.0)]


def _crash(step: PlannedFault) -> list[str]:
    return [kill_script(Crash.spec_of(step).signal.removeprefix("SIG"), [(4242, CID)])]


def _disk(step: PlannedFault) -> list[str]:
    spec = step.spec
    assert isinstance(spec, disk.DiskFault)
    folder = spec.path
    file = f"{folder}/.hachaos-fill-ab12cd34"
    return [
        disk.resolve_script(folder),
        disk.usage_script(folder),
        disk.fill_script(folder, file, spec.fill, 1024, 40.0),
        disk.remove_script(folder, file),
        disk.absent_script(file),
    ]


def _memory(step: PlannedFault) -> list[str]:
    spec = step.spec
    assert isinstance(spec, MemoryFault)
    return [hog_script(spec.size, "/tmp/.hachaos-mem-ab12cd34.pid", 40.0)]


SCRIPTS: dict[str, Callable[[PlannedFault], list[str]]] = {
    "partition": _netns,
    "loss": _netns,
    "bandwidth": _netns,
    "latency": _netns,
    "dns": _netns,
    # Served by the fault proxy: its argv and rules are built into the helper script.
    "slow": _netns,
    "http-error": _netns,
    "http-delay": _netns,
    "blackhole": _netns,
    "crash": _crash,
    "disk": _disk,
    "memory": _memory,
}

_ADAPTER: TypeAdapter[Any] = TypeAdapter(FaultSpec)
_CLASSES = {c.fault_type(): c for c in CATALOG.specs}


def _is_text(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    return annotation is str or str in args or list[str] in args or annotation == list[str]


def _fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field a scenario may set (by YAML key), nested ones as paths."""
    found: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key == "type":
            continue
        if info.annotation is models.Selector:
            found += _fields(models.Selector, (*prefix, key))
        else:
            found.append((*prefix, key))
    return found


def _text_fields(model: type[BaseModel]) -> list[str]:
    return [n for n, i in model.model_fields.items() if n != "type" and _is_text(i.annotation)]


def _body(fault_type: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": fault_type,
        "target": {"service": "web"},
        "at": 0,
        **REQUIRED.get(fault_type, {}),
    }
    if fault_type not in ("crash", "restart", "rolling-restart"):
        body["for"] = 10
    if path[-1] == "peers":
        value = [value]
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


def _step(spec: Any) -> PlannedFault:
    return PlannedFault(0, 0, "f-1", spec.type, spec, spec.target.service, (1,), 0.0, 10.0)


def _assert_inert(payload: str, scripts: list[str], where: str) -> None:
    # What would betray a payload that was split up or re-quoted on its way in.
    mark = "PWNED" if "PWNED" in payload else payload
    for script in scripts:
        holders = [tok for tok in shlex.split(script) if payload in tok]
        if not holders:
            assert mark not in script, f"{where}: {payload!r} was broken up in:\n{script}"
        for tok in holders:
            assert shlex.quote(tok) in script, (
                f"{where}: {payload!r} is not one quoted token in:\n{script}"
            )


@pytest.fixture(autouse=True)
def _fixed_peers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Peer addresses come from the engine; a fixed one keeps the builders pure."""
    for module in (partition, loss):
        monkeypatch.setattr(module, "peer_addresses", lambda *_a: ["10.0.0.2"])
    monkeypatch.setattr(proxied, "peer_ips", lambda *_a: ["10.0.0.2"])


def test_every_fault_type_is_classified() -> None:
    assert set(registry.types()) == set(SCRIPTS) | ENGINE_ONLY
    assert not set(SCRIPTS) & ENGINE_ONLY
    assert set(_CLASSES) == set(registry.types())


@pytest.mark.parametrize("fault_type", sorted(SCRIPTS))
def test_payload_in_every_field_is_refused_or_inert(fault_type: str) -> None:
    fields = _fields(_CLASSES[fault_type])
    assert ("target", "service") in fields
    for path in fields:
        for payload in PAYLOADS:
            try:
                spec = _ADAPTER.validate_python(_body(fault_type, path, payload))
            except ValidationError:
                continue  # refused at validation
            _assert_inert(payload, SCRIPTS[fault_type](_step(spec)), ".".join(path))


@pytest.mark.parametrize("fault_type", sorted(SCRIPTS))
def test_builders_refuse_or_quote_what_skipped_validation(fault_type: str) -> None:
    """Code that builds a spec without validation still never lets a payload run."""
    cls = _CLASSES[fault_type]
    valid = _ADAPTER.validate_python(_body(fault_type, ("at",), 0))
    for name in _text_fields(cls):
        for payload in PAYLOADS:
            value: Any = [payload] if name == "peers" else payload
            spec = cls.model_construct(**{**dict(valid), name: value})
            try:
                scripts = SCRIPTS[fault_type](_step(spec))
            except FaultError:
                continue  # refused by the builder
            _assert_inert(payload, scripts, name)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_disk_scripts_keep_a_raw_path_one_token(payload: str) -> None:
    """The last line of defence on its own: the builders quote even an unchecked path."""
    file = f"{payload}/.hachaos-fill-ab"
    scripts = [
        disk.resolve_script(payload),
        disk.usage_script(payload),
        disk.fill_script(payload, file, 0.5, 1024, 40.0),
        disk.remove_script(payload, file),
        disk.absent_script(file),
    ]
    assert all(any(payload in tok for tok in shlex.split(s)) for s in scripts)
    _assert_inert(payload, scripts, "disk path")
