"""`hachaos audit` of Kubernetes manifests: security contexts, resources, probes, budgets
and NetworkPolicy presence, from the objects as written (static: no cluster needed).

Each workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod) is reviewed per
container, with the pod's security context as the default a container may override,
as Kubernetes resolves it. The findings use the audit's rule catalogue, so the table,
JSON and SARIF outputs are the compose audit's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.audit.models import AuditResult, Finding, rank
from harness.audit.rules import DANGEROUS_CAPS, RULES
from harness.engine.kubernetes import manifests as k8s_manifests

WORKLOADS = (*k8s_manifests.WORKLOADS, "Pod")
is_manifest_source = k8s_manifests.is_manifest_source  # which paths this audit reviews
_SECRETISH = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY")


def _finding(rule_id: str, service: str, message: str, file: str) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule_id, rule.severity, service, message, rule.fix, (), file, 0)


def _effective(pod: Mapping[str, Any], c: Mapping[str, Any], key: str) -> Any:
    """A container's security setting, falling back to the pod's (Kubernetes' order)."""
    own = (c.get("securityContext") or {}).get(key)
    return own if own is not None else (pod.get("securityContext") or {}).get(key)


def _container_rules(
    name: str, pod: Mapping[str, Any], c: Mapping[str, Any], file: str
) -> Iterator[Finding]:
    who = f"{name}/{c.get('name', '?')}"
    sc = c.get("securityContext") or {}
    if sc.get("privileged"):
        yield _finding("privileged", who, "securityContext.privileged is true", file)
    user = _effective(pod, c, "runAsUser")
    if not _effective(pod, c, "runAsNonRoot") and (user is None or user == 0):
        why = "runAsUser 0" if user == 0 else "neither runAsNonRoot nor a non-zero runAsUser"
        yield _finding("root-user", who, f"may run as root ({why})", file)
    caps = sc.get("capabilities") or {}
    added = sorted(set(caps.get("add") or []))
    if added:
        dangerous = sorted(set(added) & DANGEROUS_CAPS)
        f = _finding("cap-add", who, f"adds capabilities {', '.join(added)}", file)
        yield f if dangerous else Finding(f.rule, "medium", f.service, f.message, f.fix, (), file)
    if "ALL" not in (caps.get("drop") or []):
        yield _finding("no-cap-drop", who, "does not drop ALL capabilities", file)
    if sc.get("allowPrivilegeEscalation") is not False:
        yield _finding("privilege-escalation", who, "allowPrivilegeEscalation is not false", file)
    if not sc.get("readOnlyRootFilesystem"):
        yield _finding("writable-root-fs", who, "readOnlyRootFilesystem is not true", file)
    res = c.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    missing = [k for k in ("cpu", "memory") if k not in limits]
    if missing:
        yield _finding("no-resource-limits", who, f"no {' or '.join(missing)} limit", file)
    if not requests:
        yield _finding("no-resource-requests", who, "no cpu/memory requests", file)
    if "readinessProbe" not in c:
        yield _finding("no-readiness-probe", who, "no readinessProbe", file)
    if "livenessProbe" not in c:
        yield _finding("no-liveness-probe", who, "no livenessProbe", file)
    for env in c.get("env") or []:
        key = str(env.get("name", "")).upper()
        if "value" in env and any(s in key for s in _SECRETISH):
            yield _finding(
                "secret-in-environment", who, f"{env.get('name')} is a literal value", file
            )


def _workload_rules(obj: Mapping[str, Any], file: str) -> Iterator[Finding]:
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    pod = k8s_manifests.pod_spec(obj)
    hosts = [k for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k)]
    if hosts:
        yield _finding("host-namespace", name, f"{', '.join(hosts)} is true", file)
    for v in pod.get("volumes") or []:
        if "hostPath" in v:
            path = (v.get("hostPath") or {}).get("path", "?")
            yield _finding("host-path", name, f"volume {v.get('name')} mounts {path}", file)
    for c in list(pod.get("containers") or []) + list(pod.get("initContainers") or []):
        yield from _container_rules(name, pod, c, file)


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    if obj.get("kind") == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    template = (obj.get("spec") or {}).get("template") or {}
    return dict((template.get("metadata") or {}).get("labels") or {})


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    wanted = dict(selector.get("matchLabels") or {})
    return all(labels.get(k) == v for k, v in wanted.items())


def _stack_rules(objects: Sequence[Mapping[str, Any]], file: str) -> Iterator[Finding]:
    workloads = [o for o in objects if o["kind"] in WORKLOADS]
    if workloads and not any(o["kind"] == "NetworkPolicy" for o in objects):
        yield _finding("no-network-policy", "", "no NetworkPolicy among the manifests", file)
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for w in workloads:
        if w["kind"] == "Pod":
            continue
        name = f"{w['kind']}/{w['metadata']['name']}"
        replicas = k8s_manifests.replicas_of(w)
        covered = any(
            _matches((b.get("spec") or {}).get("selector") or {}, _labels(w)) for b in budgets
        )
        if replicas >= 2 and not covered:
            yield _finding("no-disruption-budget", name, f"{replicas} replicas, no budget", file)


def audit_manifests(path: Path) -> AuditResult:
    """Review the manifests at ``path`` (a file, a folder or a kustomize folder)."""
    objects = k8s_manifests.load(path)
    file = str(path)
    findings = [f for o in objects if o["kind"] in WORKLOADS for f in _workload_rules(o, file)]
    findings += list(_stack_rules(objects, file))
    findings.sort(key=lambda f: (-rank(f.severity), f.service, f.rule))
    names = sorted(
        f"{o['kind']}/{o['metadata']['name']}" for o in objects if o["kind"] in WORKLOADS
    )
    return AuditResult(compose_file=file, mode="static", findings=findings, services=names)
