"""What the audit reasons about: per-service facts and the findings drawn from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")


def rank(severity: Severity) -> int:
    """0 for low … 3 for critical."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Port:
    """One published port: host address ("" = every interface) and container port."""

    host_ip: str
    target: int


@dataclass(frozen=True)
class ServiceFacts:
    """The security-relevant settings of one service, from the file or a live container.

    ``user`` is None when nothing sets it (neither compose nor a known image):
    the container then runs as root. ``healthcheck`` is None when unknown
    (compose sets none and the image was not inspected).
    """

    name: str
    user: str | None = None
    user_from: str = "compose"  # compose | image | container
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    socket_mounts: tuple[str, ...] = ()
    network_mode: str | None = None
    pid: str | None = None
    ipc: str | None = None
    ports: tuple[Port, ...] = ()
    healthcheck: bool | None = None
    restart: str | None = None
    memory_limit: bool = False
    cpu_limit: bool = False
    pids_limit: bool = False
    secret_env: tuple[str, ...] = ()
    read_only: bool = False
    no_new_privileges: bool = False
    networks: tuple[str, ...] = ()
    replicas: int = 1
    depends_on: tuple[str, ...] = ()
    image: str = ""
    command: str = ""


@dataclass(frozen=True)
class Finding:
    """One rule violated by one service (or by the stack: service "")."""

    rule: str
    severity: Severity
    service: str
    message: str
    fix: str
    path: tuple[str, ...] = ()  # YAML path in the compose file, for the location
    file: str = ""
    line: int = 0

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.file else ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("path")
        return out


@dataclass(frozen=True)
class AuditResult:
    """Every finding of one audit, most severe first, and how it was made."""

    compose_file: str
    mode: Literal["static", "live"]
    findings: list[Finding] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def at_or_above(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if rank(f.severity) >= rank(severity)]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "compose_file": self.compose_file,
            "mode": self.mode,
            "services": self.services,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }
