"""A stack's services as the faults change them: spec updates, rollbacks, replica counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.engine.client import client, translated
from harness.engine.swarm.objects import stack_services
from harness.errors import FaultError


def service_id(stack: str, service: str) -> str:
    """The id of ``<stack>_<service>``; FaultError when the stack has no such service."""
    for svc in stack_services(stack):
        if svc["Spec"]["Name"] == f"{stack}_{service}":
            return str(svc["ID"])
    raise FaultError(
        f"swarm stack {stack!r} has no service {service!r}",
        hint="name a service of the stack file (without the `<stack>_` prefix)",
    )


def inspect_service(sid: str) -> dict[str, Any]:
    """The service's inspect document."""
    with translated(f"inspect service {sid[:12]}"):
        return dict(client().api.inspect_service(sid))


def _submit(sid: str, spec: Mapping[str, Any], params: Mapping[str, Any]) -> None:
    # The SDK's update_service rebuilds the spec from keyword arguments and drops what it
    # does not know; the raw endpoint takes the spec exactly as inspected and changed.
    api = client().api
    url = api._url("/services/{0}/update", sid)
    api._raise_for_status(api._post_json(url, data=spec, params=params))


def update_service(sid: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``mutate`` to the service's current spec and submit it (at its current version)."""
    with translated(f"update service {sid[:12]}"):
        doc = client().api.inspect_service(sid)
        spec = doc["Spec"]
        mutate(spec)
        _submit(sid, spec, {"version": doc["Version"]["Index"]})


def rollback_service(sid: str) -> None:
    """Server-side rollback to the service's previous spec (follows its rollback_config)."""
    with translated(f"roll back service {sid[:12]}"):
        doc = client().api.inspect_service(sid)
        _submit(sid, doc["Spec"], {"version": doc["Version"]["Index"], "rollback": "previous"})


def update_state(sid: str) -> str:
    """The service's UpdateStatus.State ("" before its first update)."""
    return str((inspect_service(sid).get("UpdateStatus") or {}).get("State", ""))


def replicated_count(doc: Mapping[str, Any]) -> int:
    """Desired replicas of a service's inspect document; FaultError for a global service."""
    mode = doc["Spec"].get("Mode") or {}
    if "Replicated" not in mode:
        raise FaultError(
            f"service {doc['Spec']['Name']} is not replicated (mode {sorted(mode)}); "
            "only a replicated service has a replica count to change",
            hint="target a service with `deploy: {mode: replicated}`",
        )
    return int(mode["Replicated"].get("Replicas", 1))
