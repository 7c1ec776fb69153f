"""What a stack needs of this swarm that it may not have: refused before anything is deployed.

Without IPVS (this kind of machine: no /proc/net/ip_vs) Swarm's routing mesh and
virtual service IPs accept no connection (docs/engines.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError

IPVS_PROC = Path("/proc/net/ip_vs")
IPVS_HINT = (
    "this kernel has no IPVS (no /proc/net/ip_vs; `modprobe ip_vs` fails), so Swarm's routing "
    "mesh (ingress-mode ports) and virtual service IPs (endpoint_mode: vip, the default) accept "
    "no connection. Give every service `deploy: {endpoint_mode: dnsrr}` (its name then resolves "
    "to one address per task; HAProxy follows them with `server-template` + `resolvers`) and "
    "publish the front service in host mode (long syntax: `ports: [{target: 8080, published: "
    "${HACHAOS_PORT}, mode: host}]`); compose/web-swarm/compose.yaml does both"
)


def ipvs_available(proc: Path = IPVS_PROC) -> bool:
    """Whether the kernel has IPVS (what Swarm's VIPs and ingress routing mesh need)."""
    return proc.exists()


def ingress_hazards(raw: Mapping[str, Any]) -> list[str]:
    """What in a stack file needs IPVS: VIP services and ingress-mode published ports."""
    found = []
    for name, svc in sorted((raw.get("services") or {}).items()):
        if not isinstance(svc, Mapping):
            continue
        deploy = svc.get("deploy") or {}
        if (deploy.get("endpoint_mode") or "vip") != "dnsrr":
            found.append(f"service {name!r} uses endpoint_mode vip (the default)")
        for port in svc.get("ports") or []:
            if not isinstance(port, Mapping) or port.get("mode") != "host":
                found.append(f"service {name!r} publishes {port!r} in ingress mode")
    return found


def preflight(file: Path, *, proc: Path = IPVS_PROC) -> None:
    """Refuse, before anything is deployed, a stack that cannot work on this kernel."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read stack file {file}: {exc}") from exc
    if ipvs_available(proc):
        return
    hazards = ingress_hazards(raw)
    if hazards:
        raise ScenarioError(
            f"{file} cannot run on this swarm: " + "; ".join(hazards),
            hint=IPVS_HINT,
        )
