"""Which local address the kernel sends from toward a peer: where placed load workers
reach this host (a Swarm manager's route, a Kubernetes pod's bridge)."""

from __future__ import annotations

import socket


def source_address_toward(address: str) -> str:
    """The local address the kernel would send from to reach ``address`` (no packet sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((address, 9))  # UDP connect only picks the route
        return str(probe.getsockname()[0])
