"""The audit rules: each one looks at the facts of a service (or of the stack).

Severities follow what an attacker gains: an escape to the host is critical,
root or an extra capability inside the container is high, a missing
defence-in-depth layer is medium, a missing belt-and-braces setting is low.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from harness.audit.models import Finding, ServiceFacts, Severity, rank


@dataclass(frozen=True)
class Rule:
    """One rule's catalogue entry (also its SARIF reportingDescriptor)."""

    id: str
    severity: Severity
    title: str
    fix: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "root-user",
            "high",
            "Runs as root",
            "set `user:` to a non-root uid (or USER in the image)",
        ),
        Rule("privileged", "critical", "Privileged container", "remove `privileged: true`"),
        Rule(
            "cap-add",
            "high",
            "Added Linux capabilities",
            "remove `cap_add` or keep only what is proven necessary",
        ),
        Rule(
            "docker-socket",
            "critical",
            "Docker socket mounted",
            "do not mount docker.sock; it is root on the host",
        ),
        Rule(
            "host-namespace",
            "high",
            "Host network, pid or ipc namespace",
            "drop `network_mode/pid/ipc: host`",
        ),
        Rule(
            "port-all-interfaces",
            "high",
            "Port published on all interfaces",
            'publish on 127.0.0.1 ("127.0.0.1:HOST:CONTAINER") or behind a proxy',
        ),
        Rule(
            "no-healthcheck",
            "medium",
            "No healthcheck",
            "add a `healthcheck:` (or HEALTHCHECK in the image)",
        ),
        Rule(
            "no-restart-policy",
            "medium",
            "No restart policy",
            "set `restart: unless-stopped` (or always/on-failure)",
        ),
        Rule(
            "no-resource-limits",
            "medium",
            "Missing memory/CPU/pids limits",
            "set deploy.resources.limits: memory, cpus and pids",
        ),
        Rule(
            "secret-in-environment",
            "high",
            "Secret in environment",
            "move it to `secrets:` and read it from /run/secrets/NAME",
        ),
        Rule(
            "writable-root-fs",
            "medium",
            "Writable root filesystem",
            "set `read_only: true` and add `tmpfs:` for paths that must be written",
        ),
        Rule(
            "no-new-privileges",
            "medium",
            "no-new-privileges not set",
            'add `security_opt: ["no-new-privileges:true"]`',
        ),
        Rule(
            "no-cap-drop",
            "low",
            "Default capabilities kept",
            "add `cap_drop: [ALL]` (then cap_add only what is needed)",
        ),
        Rule(
            "shared-network",
            "medium",
            "One network shared by every service",
            "split front and back networks so the edge cannot reach the data tier",
        ),
        Rule(
            "single-replica",
            "medium",
            "Single replica behind no load balancer",
            "run 2+ replicas behind a load balancer, or put one in front",
        ),
        # Kubernetes manifests (harness/audit/manifests.py)
        Rule(
            "no-readiness-probe",
            "medium",
            "No readiness probe",
            "add a readinessProbe so the Service sends traffic only to pods that can serve it",
        ),
        Rule(
            "no-liveness-probe",
            "low",
            "No liveness probe",
            "add a livenessProbe (one that does not depend on other services)",
        ),
        Rule(
            "no-resource-requests",
            "medium",
            "No resource requests",
            "set resources.requests (cpu, memory) so the scheduler can place the pod",
        ),
        Rule(
            "privilege-escalation",
            "medium",
            "Privilege escalation allowed",
            "set securityContext.allowPrivilegeEscalation: false",
        ),
        Rule(
            "host-path",
            "high",
            "Host path mounted",
            "use an emptyDir, a ConfigMap or a PersistentVolumeClaim instead of hostPath",
        ),
        Rule(
            "no-network-policy",
            "medium",
            "No NetworkPolicy",
            "add NetworkPolicies that admit only the traffic each workload needs",
        ),
        Rule(
            "no-disruption-budget",
            "medium",
            "Replicated workload without a PodDisruptionBudget",
            "add a PodDisruptionBudget (minAvailable or maxUnavailable) for it",
        ),
    )
}

# Capabilities that amount to root on the host or on its network.
DANGEROUS_CAPS = {
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "SYS_BOOT",
}
_LB = re.compile(r"haproxy|nginx|traefik|envoy|caddy|balancer|\blb\b|proxy", re.I)


def _finding(
    rule_id: str,
    service: str,
    message: str,
    path: tuple[str, ...],
    severity: Severity | None = None,
) -> Finding:
    rule = RULES[rule_id]
    return Finding(
        rule=rule_id,
        severity=severity or rule.severity,
        service=service,
        message=message,
        fix=rule.fix,
        path=path,
    )


def is_root(user: str | None) -> bool:
    """No user, ``root``, uid 0 (with or without a group) all run as root."""
    if not user:
        return True
    name = user.split(":", 1)[0].strip()
    return name in ("", "root", "0")


def is_load_balancer(f: ServiceFacts) -> bool:
    """A service whose name, image or build/command names a proxy or balancer."""
    return bool(_LB.search(f.name) or _LB.search(f.image) or _LB.search(f.command))


def service_rules(f: ServiceFacts) -> Iterator[Finding]:
    """Every finding of one service on its own."""
    yield from _privilege_rules(f)
    yield from _resilience_rules(f)
    yield from _hardening_rules(f)


def _privilege_rules(f: ServiceFacts) -> Iterator[Finding]:
    """Root, privileged, added capabilities, the Docker socket, host namespaces."""
    s = f.name
    svc = ("services", s)
    if is_root(f.user):
        why = {
            "container": "the running container's user is root",
            "image": "the image's USER is root and compose sets no `user:`",
        }.get(f.user_from, "compose sets no `user:` (and the image's USER is root or unknown)")
        if f.user:
            why = f"`user: {f.user}` is root"
        yield _finding("root-user", s, why, (*svc, "user"))
    if f.privileged:
        yield _finding(
            "privileged",
            s,
            "privileged: every capability and every device of the host",
            (*svc, "privileged"),
        )
    if f.cap_add:
        bad = sorted(set(f.cap_add) & DANGEROUS_CAPS)
        sev: Severity = "high" if bad else "medium"
        yield _finding("cap-add", s, f"adds {', '.join(f.cap_add)}", (*svc, "cap_add"), sev)
    if f.socket_mounts:
        yield _finding(
            "docker-socket", s, f"mounts {', '.join(f.socket_mounts)}", (*svc, "volumes")
        )
    for key, value in (("network_mode", f.network_mode), ("pid", f.pid), ("ipc", f.ipc)):
        if value == "host":
            yield _finding(
                "host-namespace", s, f"{key}: host shares the host's namespace", (*svc, key)
            )


def _resilience_rules(f: ServiceFacts) -> Iterator[Finding]:
    """Open ports, health checks, restart policy, resource limits."""
    s = f.name
    svc = ("services", s)
    open_ports = sorted({p.target for p in f.ports if p.host_ip in ("", "0.0.0.0", "::")})
    if open_ports:
        yield _finding(
            "port-all-interfaces",
            s,
            f"container port(s) {open_ports} published on every host interface",
            (*svc, "ports"),
        )
    if not f.healthcheck:
        why = (
            "no healthcheck"
            if f.healthcheck is False
            else "no healthcheck in the file (image not inspected)"
        )
        yield _finding("no-healthcheck", s, why, (*svc, "healthcheck"))
    if f.restart is None:
        yield _finding(
            "no-restart-policy", s, "no restart policy: a crash leaves it down", (*svc, "restart")
        )
    missing = [
        n
        for n, ok in (("memory", f.memory_limit), ("cpus", f.cpu_limit), ("pids", f.pids_limit))
        if not ok
    ]
    if missing:
        yield _finding("no-resource-limits", s, f"no {'/'.join(missing)} limit", (*svc, "deploy"))


def _hardening_rules(f: ServiceFacts) -> Iterator[Finding]:
    """Secrets in the environment, a writable root, setuid, default capabilities."""
    s = f.name
    svc = ("services", s)
    for name in f.secret_env:
        yield _finding(
            "secret-in-environment",
            s,
            f"environment variable {name} holds a secret",
            (*svc, "environment", name),
        )
    if not f.read_only:
        yield _finding("writable-root-fs", s, "root filesystem is writable", (*svc, "read_only"))
    if not f.no_new_privileges:
        yield _finding(
            "no-new-privileges",
            s,
            "setuid binaries can still raise privileges",
            (*svc, "security_opt"),
        )
    if "ALL" not in f.cap_drop:
        yield _finding("no-cap-drop", s, "keeps Docker's default capabilities", (*svc, "cap_drop"))


def stack_rules(services: Sequence[ServiceFacts]) -> Iterator[Finding]:
    """Findings about how the services sit together."""
    netted = [f for f in services if not f.network_mode]
    if len(netted) >= 3:
        common = set.intersection(*(set(f.networks) for f in netted))
        if common:
            yield _finding(
                "shared-network",
                "*",
                f"all {len(netted)} services share network(s) {', '.join(sorted(common))}",
                ("networks",) if any(n != "default" for n in common) else ("services",),
            )
    balancers = [f for f in services if is_load_balancer(f)]
    for f in services:
        if f.ports and f.replicas < 2 and not is_load_balancer(f):
            front = (
                ""
                if not balancers
                else f" ({', '.join(b.name for b in balancers)} does not front it)"
            )
            yield _finding(
                "single-replica",
                f.name,
                f"one replica publishes {sorted({p.target for p in f.ports})} directly{front}",
                ("services", f.name, "deploy", "replicas"),
            )


CHECKS: tuple[Callable[[Sequence[ServiceFacts]], Iterator[Finding]], ...] = (
    lambda fs: (x for f in fs for x in service_rules(f)),
    stack_rules,
)


def evaluate(services: Sequence[ServiceFacts]) -> list[Finding]:
    """Every finding, most severe first, then by service and rule."""
    found = [x for check in CHECKS for x in check(services)]
    return sorted(found, key=lambda x: (-rank(x.severity), x.service, x.rule, x.message))
