"""TCP reachability probes from inside a container's network namespace.

A throwaway helper joins the ``from`` container's netns (no capability at all is
needed for a connect) and tries every address:port with bash's ``/dev/tcp``
under ``timeout``, all in parallel, so one round costs one helper start plus
one connect timeout at most.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.engine import helpers
from harness.engine.containers import NUMBER, SERVICE, _project_containers, inspect

MAX_TARGETS = 256  # per helper: bounds the script and the parallel connects


@dataclass(frozen=True)
class Endpoint:
    """One container of a service with its addresses and exposed TCP ports."""

    id: str
    service: str
    number: int
    running: bool
    addresses: tuple[str, ...]
    ports: tuple[int, ...]


def endpoints(project: str) -> dict[str, list[Endpoint]]:
    """Every container of the project, per service, by replica number."""
    out: dict[str, list[Endpoint]] = {}
    found = _project_containers(project)
    for c in sorted(found, key=lambda c: int(c.labels.get(NUMBER, "0") or 0)):
        doc: dict[str, Any] = inspect(str(c.id))
        nets = (doc.get("NetworkSettings") or {}).get("Networks") or {}
        exposed = (doc.get("Config") or {}).get("ExposedPorts") or {}
        ports = sorted(
            {
                int(k.split("/")[0])
                for k in exposed
                if k.endswith("/tcp") and k.split("/")[0].isdigit()
            }
        )
        out.setdefault(c.labels.get(SERVICE, ""), []).append(
            Endpoint(
                id=str(doc["Id"]),
                service=c.labels.get(SERVICE, ""),
                number=int(c.labels.get(NUMBER, "0") or 0),
                running=bool((doc.get("State") or {}).get("Running")),
                addresses=tuple(
                    sorted(n["IPAddress"] for n in nets.values() if n.get("IPAddress"))
                ),
                ports=tuple(ports),
            )
        )
    return out


def probe_script(targets: Sequence[tuple[str, int]], timeout_s: float) -> str:
    """The bash script of one round: ``R ADDRESS PORT open|timeout|refused`` per target.

    Every value is validated (an IP address, a port number) and quoted.
    """
    if len(targets) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} targets per probe round")
    t = f"{float(timeout_s):.3f}"
    lines = [
        "p() {",
        f'  if timeout {t} bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; then echo "R $1 $2 open";',
        '  elif [ $? -eq 124 ]; then echo "R $1 $2 timeout"; else echo "R $1 $2 refused"; fi',
        "}",
    ]
    for address, port in targets:
        ip = str(ipaddress.ip_address(address))
        if not 1 <= int(port) <= 65535:
            raise ValueError(f"bad port {port}")
        lines.append(f"p {shlex.quote(ip)} {int(port)} &")
    lines.append("wait")
    return "\n".join(lines)


def parse_probe_output(text: str) -> dict[tuple[str, int], str]:
    """``{(address, port): open|timeout|refused}`` from a helper's output."""
    out: dict[tuple[str, int], str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "R" and parts[2].isdigit():
            out[(parts[1], int(parts[2]))] = parts[3]
    return out


def probe_from(
    container_id: str,
    targets: Sequence[tuple[str, int]],
    *,
    timeout_s: float,
    run_id: str,
    project: str,
) -> dict[tuple[str, int], str]:
    """Probe ``targets`` from inside ``container_id``'s netns; a target with no answer is absent."""
    if not targets:
        return {}
    _, output = helpers.run_once(
        ["bash", "-c", probe_script(targets, timeout_s)],
        run_id=run_id,
        project=project,
        network_mode=f"container:{container_id}",
        timeout=timeout_s + 30.0,
    )
    return parse_probe_output(output)
