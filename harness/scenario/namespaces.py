"""Refusing faults whose target borrows a namespace (``network_mode: host``, ``pid: ...``).

Shared by validation (on the compose file) and by the faults (on the live containers).
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.scenario.compose import shares_namespace

# What a fault that acts in a namespace would hit when the target only borrows it.
COMPOSE_SETTINGS = {"network": "network_mode", "pid": "pid"}
ENGINE_SETTINGS = {"network": "NetworkMode", "pid": "PidMode"}
_HAZARD = {
    "network": "change the iptables/tc rules, and so the traffic, of {owner}",
    "pid": "signal processes by pid in the pid namespace of {owner}",
}


def namespace_refusal(
    fault_type: str,
    needs: frozenset[str],
    modes: Mapping[str, str | None],
    settings: Mapping[str, str],
) -> str | None:
    """Why a ``fault_type`` fault acting in ``needs`` must not hit a target whose
    namespace modes are ``modes`` (``{"network": "host", "pid": None}``), or None.

    ``settings`` names each namespace's setting as the user sees it
    (``network_mode`` in a compose file, ``NetworkMode`` on the engine).
    """
    for ns in sorted(needs):
        mode = modes.get(ns)
        if not shares_namespace(mode):
            continue
        mode = str(mode)
        kind, _, ref = mode.partition(":")
        ref = ref[:12] if len(ref) == 64 else ref
        owner = "the host" if mode == "host" else f"{kind} {ref!r}"
        return (
            f"has `{settings[ns]}: {mode}`, so a `{fault_type}` fault would "
            f"{_HAZARD[ns].format(owner=owner)}: refused"
        )
    return None
